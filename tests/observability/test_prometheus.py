"""The generated alert rules in a real Prometheus (Debian's, installed by `make prometheus`): promtool
accepts them, and scraping a running platform, the lag alert of a durable fires when its consumer is
stopped and clears when it comes back."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from nats.aio.client import Client as NatsClient

from gordon import dashboard
from gordon.alerts import CONSUMER_LAG_S, RULES_PATH
from gordon.paths import ROOT
from schemas import REGISTRY
from services.http_server import free_port
from tests.observability.running import HOST, Observed, observed_platform
from tests.waiting import eventually

pytestmark = pytest.mark.slow

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
RULES = ROOT / RULES_PATH


def test_promtool_accepts_the_generated_rules() -> None:
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@contextmanager
def prometheus(tmp: Path, targets: dict[str, str]) -> Iterator[str]:
    """Prometheus scraping `targets` (job name: base URL) every second with the generated rules."""
    port = free_port(HOST)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": f"gordon-{name}", "static_configs": [{"targets": [url.removeprefix("http://")]}]}
            for name, url in targets.items()
        ],
    }
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = (tmp / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address={HOST}:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def _get(url: str) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            answer = await client.get(url)
        except httpx.HTTPError:
            return {}
    return answer.json() if answer.status_code == 200 else {}


async def lag_alert(api: str, consumer: str) -> str | None:
    """The state of the GordonConsumerLagging alert of `consumer` (None: not active)."""
    body = await _get(f"{api}/api/v1/alerts")
    alerts = body.get("data", {}).get("alerts", []) if body else []  # type: ignore[union-attr]
    for alert in alerts:
        labels = alert["labels"]
        if labels.get("alertname") == "GordonConsumerLagging" and labels.get("consumer") == consumer:
            return str(alert["state"])
    return None


async def all_up(api: str, jobs: int) -> bool:
    body = await _get(f"{api}/api/v1/targets")
    active = body.get("data", {}).get("activeTargets", []) if body else []  # type: ignore[union-attr]
    return len(active) == jobs and all(t["health"] == "up" for t in active)


@pytest.fixture
async def platform(
    monkeypatch: pytest.MonkeyPatch,
    database: str,
    nats_url: str,
    nats: NatsClient,
    fresh_bus: Callable[[], Awaitable[None]],
) -> AsyncIterator[Observed]:
    await fresh_bus()
    async with observed_platform(monkeypatch, nats_url, database) as seen:
        yield seen


async def test_the_lag_alert_fires_when_a_consumer_stops_and_clears_when_it_returns(
    platform: Observed, tmp_path: Path
) -> None:
    with prometheus(tmp_path, platform.urls) as api:
        await eventually(lambda: all_up(api, len(platform.urls)), "Prometheus scraping every part", 60)
        assert await lag_alert(api, "risk-klines") is None
        await _every_dashboard_query_runs(api)

        await platform.platform.stop_service("risk")  # klines keep coming; nobody takes risk-klines'
        await eventually(
            lambda: _is(lag_alert(api, "risk-klines"), "firing"),
            f"the lag alert of risk-klines (over {CONSUMER_LAG_S} s)",
            CONSUMER_LAG_S + 45,
        )

        await platform.platform.start_service("risk")
        await eventually(lambda: _is(lag_alert(api, "risk-klines"), None), "the lag alert to clear", 45)


async def _every_dashboard_query_runs(api: str) -> None:
    """Each query of the generated Grafana dashboard is valid PromQL over what the platform serves."""
    answered = 0
    async with httpx.AsyncClient(timeout=10) as client:
        for expr in dashboard.exprs(REGISTRY):
            body = (await client.get(f"{api}/api/v1/query", params={"query": expr})).json()
            assert body["status"] == "success", (expr, body)
            answered += bool(body["data"]["result"])
    assert answered >= len(dashboard.exprs(REGISTRY)) // 2, "most panels have data on a running platform"


async def _is(state: Awaitable[str | None], want: str | None) -> bool:
    return await state == want

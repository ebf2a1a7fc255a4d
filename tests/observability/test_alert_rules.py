"""`gordon alerts`: the rules come from the registry (a lag rule per declared durable, a halt and a lag
rule per projection); write, check, and name a stale file in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gordon import alerts, dashboard
from gordon.cli import main
from projections.catalog import PROJECTIONS
from schemas import REGISTRY


def rules() -> list[dict[str, object]]:
    groups = yaml.safe_load(alerts.render(REGISTRY))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_declared_durable_and_projection_has_its_rules() -> None:
    durables = {spec.durable for subject in REGISTRY for spec in subject.consumers}
    lagging = [r for r in rules() if r["alert"] == "GordonConsumerLagging"]
    assert {r["labels"]["durable"] for r in lagging} == durables  # type: ignore[index]
    bot = next(r for r in lagging if str(r["labels"]["durable"]).startswith("bot-"))  # type: ignore[index]
    assert 'consumer=~"bot-.+-.+-.+-.+-klines"' in str(bot["expr"])
    halted = {r["labels"]["projection"] for r in rules() if r["alert"] == "GordonProjectionHalted"}  # type: ignore[index]
    assert halted == set(PROJECTIONS)
    names = {r["alert"] for r in rules()}
    assert {
        "GordonOutboxStalled",
        "GordonDrainLeaderless",
        "GordonDeadLetters",
        "GordonBreakerTripped",
        "GordonServiceNotReady",
        "GordonServiceDown",
    } <= names


def test_alerts_writes_checks_and_names_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "alerts.yml"
    assert main(["alerts", "--output", str(path)]) == 0
    assert path.read_text() == alerts.render(REGISTRY)
    assert main(["alerts", "--check", "--output", str(path)]) == 0
    path.write_text(path.read_text().replace("> 30", "> 300", 1))
    capsys.readouterr()
    assert main(["alerts", "--check", "--output", str(path)]) == 1
    out, err = capsys.readouterr()
    assert err.strip() == f"gordon alerts: {path} is stale; run `gordon alerts`"
    assert "> 300" in out
    assert main(["alerts", "--output", "-"]) == 0
    assert capsys.readouterr().out == alerts.render(REGISTRY)


def test_the_dashboard_has_a_lag_query_per_declared_durable_and_is_current() -> None:
    durables = {spec.durable for subject in REGISTRY for spec in subject.consumers}
    lag = [e for e in dashboard.exprs(REGISTRY) if e.startswith("gordon_consumer_lag_seconds")]
    assert len(lag) == len(durables)
    assert main(["dashboard", "--check"]) == 0

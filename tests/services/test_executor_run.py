"""`faststream run services.executor:app` with the environment set: it reconciles, binds the
registry's durables on gordon-bus, serves `/healthz` and `/metrics` on its port, and stops cleanly on
SIGINT."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from services.http_server import free_port
from settings.environment import DATABASE_URL, NATS_URL

ROOT = Path(__file__).resolve().parents[2]
FASTSTREAM = Path(sys.executable).with_name("faststream")


async def consumer_bound(nats: NatsClient, durable: str, process: asyncio.subprocess.Process) -> str:
    js = nats.jetstream()
    for _ in range(600):
        if process.returncode is not None:
            assert process.stdout is not None
            output = (await process.stdout.read()).decode()
            raise AssertionError(f"the service exited with {process.returncode}:\n{output}")
        try:
            info = await js.consumer_info("gordon-bus", durable)
        except NotFoundError:
            await asyncio.sleep(0.05)
            continue
        if info.push_bound:
            return info.config.filter_subject or ""
        await asyncio.sleep(0.05)
    raise AssertionError(f"durable {durable} was never bound")


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("typer") is None,
    reason="the faststream CLI needs faststream[cli] (typer), which pyproject.toml does not install yet",
)
async def test_faststream_run_binds_the_durables_and_stops_on_sigint(
    database: str, nats_url: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    port = free_port()
    env = os.environ | {NATS_URL: nats_url, DATABASE_URL: database, "GORDON_EXECUTOR_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        str(FASTSTREAM),
        "run",
        "services.executor:app",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert await consumer_bound(nats, "executor-default", process) == "intents.executor"
        assert await consumer_bound(nats, "executor-risk", process) == "risk.commands"
        owner = await asyncpg.connect(database)
        try:
            runs = await owner.fetch("SELECT status FROM trading.reconcile_runs")
        finally:
            await owner.close()
        assert [r["status"] for r in runs] == ["clean"], "it reconciled before consuming"
        async with httpx.AsyncClient(timeout=10) as http:
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
            metrics = await http.get(f"http://127.0.0.1:{port}/metrics")
        assert health.status_code == 200, health.text
        assert health.json()["checks"]["postgres"]["detail"] == "connected as gordon_executor"
        assert {"durable:executor-default", "durable:executor-risk"} <= set(health.json()["checks"])
        assert "gordon_service_ready 1.0" in metrics.text
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stdout is not None
    output = (await process.stdout.read()).decode()
    assert code == 0, output
    assert "Traceback" not in output, output

"""/healthz against real servers: every check passes with a drain and the manager's durable, and each
broken part (a stream, a durable, the drain, a halted or lagging projection) is named in a 503."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NatsClient

from producers.channels import RISK_EVENTS
from producers.drain.config import DrainConfig
from producers.drain.runner import run_drain
from producers.publisher import NatsPublisher
from registry.subject import Service
from schemas import REGISTRY
from schemas.risk import Breaker, BreakerEvent, LatchAction
from services.manager.api.health_policy import HealthPolicy
from services.manager.service import build as build_manager
from tests.manager_api.conftest import ServeApi
from tests.manager_api.helpers import fetch
from tests.waiting import eventually

FAST = DrainConfig(
    batch_size=200, ack_timeout_s=2.0, retry_first_s=0.05, retry_max_s=0.5, standby_poll_s=0.05
)
POLICY = HealthPolicy(durables=("manager-risk",), max_projection_lag=0, timeout_s=5.0)


@pytest.fixture
async def platform(database: str, nats_url: str, serve_api: ServeApi) -> AsyncIterator[None]:
    """A drain holding the leader lock and the manager service (its durable bound)."""
    stop = asyncio.Event()
    drain = asyncio.create_task(run_drain(nats_url, database, stop, FAST))
    manager = build_manager(nats_url=nats_url, database_url=database)
    await manager.app.start()

    async def leading() -> bool:
        return bool(await fetch(database, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"))

    await eventually(leading, "the drain to take the leader lock")
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait({drain}, timeout=20)
        await manager.app.stop()


async def healthz(serve_api: ServeApi) -> tuple[int, dict[str, object]]:
    api = await serve_api(health=POLICY)
    r = await api.get("/healthz")
    return r.status_code, r.json()


async def test_all_checks_pass(platform: None, serve_api: ServeApi) -> None:
    status, body = await healthz(serve_api)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["failed"] == []
    checks = body["checks"]
    assert isinstance(checks, dict)
    expected = {"postgres", "nats", "drainLeader", "durable:manager-risk"}
    expected |= {f"stream:{s.name}" for s in REGISTRY.streams}
    expected |= {"projection:orders", "projection:positions", "projection:fills", "projection:risk_state"}
    expected |= {"projection:roundtrips", "projection:equity_points", "projection:performance_snapshots"}
    assert set(checks) == expected
    assert all(c["ok"] for c in checks.values())
    assert checks["drainLeader"]["detail"].startswith("held by backend pid ")


async def test_no_drain_and_no_durable_are_named(serve_api: ServeApi) -> None:
    status, body = await healthz(serve_api)
    assert status == 503
    assert body["status"] == "failing"
    assert body["failed"] == ["durable:manager-risk", "drainLeader"]
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["durable:manager-risk"] == {
        "ok": False,
        "detail": "durable manager-risk does not exist on gordon-bus",
    }
    assert "no session holds the drain leader lock" in checks["drainLeader"]["detail"]


async def test_readiness_answers_the_failing_report_with_200(serve_api: ServeApi) -> None:
    api = await serve_api(health=POLICY)
    probe, report = await api.get("/healthz"), await api.get("/readiness")
    assert (probe.status_code, report.status_code) == (503, 200)
    assert report.json()["status"] == "failing"
    assert report.json()["failed"] == probe.json()["failed"] == ["durable:manager-risk", "drainLeader"]


async def test_a_missing_stream_is_named(platform: None, serve_api: ServeApi, nats: NatsClient) -> None:
    await nats.jetstream().delete_stream(REGISTRY.dead_letters.name)
    status, body = await healthz(serve_api)
    assert status == 503
    assert body["failed"] == ["stream:gordon-dlq"]
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["stream:gordon-dlq"]["detail"] == "stream gordon-dlq does not exist"


async def test_a_halted_projection_is_named(platform: None, serve_api: ServeApi, database: str) -> None:
    await fetch(database, "UPDATE proj_orders_1.tracking SET halted_seq = 7, halted_reason = 'boom'")
    status, body = await healthz(serve_api)
    assert status == 503
    assert body["failed"] == ["projection:orders"]
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["projection:orders"]["detail"] == "halted at seq 7: boom"


async def test_a_lagging_projection_is_named(platform: None, serve_api: ServeApi, nats: NatsClient) -> None:
    event = BreakerEvent(
        version=1, breaker=Breaker.DRAWDOWN, action=LatchAction.TRIP, ts_ms=1_700_000_000_000
    )
    await NatsPublisher(REGISTRY, Service.RISK, nats.jetstream()).publish(
        RISK_EVENTS(breaker="drawdown"), event
    )

    async def sourced() -> bool:
        info = await nats.jetstream().stream_info(REGISTRY.history.name)
        return info.state.messages == 1

    await eventually(sourced, "gordon-history to source the event")
    status, body = await healthz(serve_api)
    assert status == 503
    assert body["failed"] == ["projection:risk_state"]
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["projection:risk_state"]["detail"] == "1 events behind (more than 0)"

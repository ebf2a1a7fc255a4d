"""The manager service: it keeps the last breaker events it receives on manager-risk, each once, and
runs as a process that binds its durable and stops on SIGINT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest
from nats.aio.client import Client as NatsClient

# A sibling test module: pytest puts this directory on sys.path (rootdir-less "prepend" imports).
from test_risk_service import run_and_interrupt, runner_argv

from gordon.commands.risk import resume_latch
from producers.channels import RISK_EVENTS
from producers.drain.config import DrainConfig
from producers.drain.runner import run_drain
from producers.publisher import NatsPublisher
from registry.subject import Service
from schemas import REGISTRY
from schemas.risk import Breaker, BreakerEvent, LatchAction
from services.manager.service import ManagerService, RecentBreakerEvents, build
from services.risk.service import build as build_risk
from tests.waiting import eventually

FAST = DrainConfig(
    batch_size=200, ack_timeout_s=2.0, retry_first_s=0.05, retry_max_s=0.5, standby_poll_s=0.05
)


def breaker_event(version: int, breaker: Breaker = Breaker.DRAWDOWN) -> BreakerEvent:
    return BreakerEvent(
        version=version,
        breaker=breaker,
        action=LatchAction.TRIP,
        value=0.06,
        threshold=0.05,
        message=f"trip {version}",
        ts_ms=1_700_000_000_000 + version,
    )


def test_recent_keeps_the_last_n_each_once() -> None:
    recent = RecentBreakerEvents(3)
    events = [breaker_event(v) for v in range(1, 6)]
    for event in events:
        assert recent.add(event)
    assert not recent.add(events[-1])
    assert [e.version for e in recent.list()] == [3, 4, 5]
    assert recent.add(events[0])  # fell out of the window: held again
    assert [e.version for e in recent.list()] == [4, 5, 1]
    with pytest.raises(ValueError, match="at least 1"):
        RecentBreakerEvents(0)


@pytest.fixture
async def manager(
    database: str, nats_url: str, fresh_bus: Callable[[], Awaitable[None]]
) -> AsyncIterator[ManagerService]:
    await fresh_bus()
    service = build(nats_url=nats_url, database_url=database, keep=10)
    await service.app.start()
    try:
        yield service
    finally:
        await service.app.stop()


async def test_manager_receives_breaker_events_once(manager: ManagerService, nats: NatsClient) -> None:
    risk = NatsPublisher(REGISTRY, Service.RISK, nats.jetstream())
    first, second = breaker_event(1), breaker_event(2, Breaker.CONNECTIVITY)
    await risk.publish(RISK_EVENTS(breaker="drawdown"), first)
    await risk.publish(RISK_EVENTS(breaker="connectivity"), second)
    await eventually(lambda: len(manager.recent.list()) == 2, "two breaker events")
    await manager.on_breaker_event(first)  # a redelivery
    assert manager.recent.list() == [first, second]


async def test_a_risk_trip_and_resume_reach_the_manager_through_the_drain(
    manager: ManagerService, database: str, nats_url: str
) -> None:
    clock_ms = [1_700_000_000_000]
    risk = build_risk(
        nats_url=nats_url,
        database_url=database,
        clock=lambda: clock_ms[0],
        capital=Decimal("10000"),
        check_interval_s=3600,
    )
    stop = asyncio.Event()
    await risk.app.start()
    drain = asyncio.create_task(run_drain(nats_url, database, stop, FAST))
    try:
        clock_ms[0] += 180_001
        tripped = await risk.check_connectivity()
        assert tripped is not None
        await resume_latch(database, "carol", "feed restored", clock=lambda: clock_ms[0])
        await eventually(lambda: len(manager.recent.list()) == 2, "the trip and the resume")
        got = [(e.version, e.breaker, e.action) for e in manager.recent.list()]
        assert got == [
            (1, Breaker.CONNECTIVITY, LatchAction.TRIP),
            (2, Breaker.MANUAL, LatchAction.RESUME),
        ]
        assert manager.recent.list()[0].event_id == tripped.event_id
        assert manager.recent.list()[1].message == "resumed by carol: feed restored"
    finally:
        stop.set()
        await asyncio.wait_for(drain, 20)
        await risk.app.stop()


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["faststream-run", "app-run"])
async def test_the_manager_process_binds_manager_risk_and_stops_on_sigint(
    runner: str, database: str, nats_url: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    argv = runner_argv(runner, "services.manager")
    await run_and_interrupt(argv, ["manager-risk"], database, nats_url, nats)

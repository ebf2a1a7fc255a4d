"""Shared helpers for projection tests: publish events straight to the bus, run a runner for a while."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from nats.js import JetStreamContext

from projections.base import Projection
from projections.runner import Runner, RunnerConfig, RunnerStats
from registry import headers as h
from registry.event import Event
from registry.ids import uuid7
from schemas import REGISTRY

FAST = RunnerConfig(batch_size=100, gap_timeout_s=1.0)


async def publish(js: JetStreamContext, subject: str, event: Event, msg_id: str | None = None) -> int:
    """Publish `event` to gordon-bus (the history stream sources it); returns its bus sequence."""
    codec = REGISTRY.codec(REGISTRY.match(subject))
    ack = await js.publish(subject, codec.encode(event), headers={h.MSG_ID: msg_id or str(event.event_id)})
    return ack.seq


async def history_has(js: JetStreamContext, count: int) -> None:
    for _ in range(200):
        if (await js.stream_info(REGISTRY.history.name)).state.messages >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"gordon-history never reached {count} messages")


async def run_until_caught_up(
    projection: Projection[Any, Any], dsn: str, js: JetStreamContext, config: RunnerConfig = FAST
) -> RunnerStats:
    """Run a live runner until it has consumed everything the history stream holds, once the history
    has sourced every message the live stream holds on its subjects (sourcing lags under load)."""
    last = await history_caught_up(js)
    runner = Runner(projection, dsn, js, REGISTRY, config)
    return await runner.run(asyncio.Event(), until_seq=last)


async def history_caught_up(js: JetStreamContext, timeout_s: float = 30.0) -> int:
    """The history stream's last sequence once it holds every message of its sourced subjects that the
    live stream holds."""
    want = 0
    for subjects in REGISTRY.history.sourced_subjects:
        info = await js.stream_info(REGISTRY.bus.name, subjects_filter=subjects)
        want += sum((info.state.subjects or {}).values())
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        state = (await js.stream_info(REGISTRY.history.name)).state
        if state.messages >= want:
            return state.last_seq
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"history holds {state.messages} of {want} messages after {timeout_s} s")
        await asyncio.sleep(0.02)


async def rows(dsn: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


def fresh_id() -> str:
    return str(uuid7())


Check = Callable[[], Awaitable[bool]]

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
    """Run a live runner until it has consumed everything the history stream holds."""
    last = (await js.stream_info(REGISTRY.history.name)).state.last_seq
    runner = Runner(projection, dsn, js, REGISTRY, config)
    return await runner.run(asyncio.Event(), until_seq=last)


async def rows(dsn: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


def fresh_id() -> str:
    return str(uuid7())


Check = Callable[[], Awaitable[bool]]

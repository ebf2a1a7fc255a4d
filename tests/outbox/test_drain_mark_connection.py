"""The drain's mark connection dies while its mark queue is full (marks held up by a lock, then a Postgres
restart or an admin's pg_terminate_backend): the leader notices, steps down and leads again, instead of
waiting forever to queue its next marks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient

from registry.ids import uuid7
from tests.outbox.conftest import count_unpublished, order_event, running, stored, wait_until, write


@pytest.mark.timeout(90)
async def test_a_mark_connection_lost_with_a_full_queue_does_not_stall_the_drain(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    writer = await asyncpg.connect(database)
    locker = await asyncpg.connect(database)
    events = [order_event(uuid7(), 1) for _ in range(3000)]
    try:
        for event in events[:2000]:
            await write(writer, event)
        holding = locker.transaction()
        await holding.start()
        await locker.execute("SELECT id FROM bus.outbox FOR UPDATE")  # every mark now waits
        async with running(database, nats) as drain:
            await wait_until(lambda: _at_least(drain.stats.published, 600), "batches published, marks queued")
            await asyncio.sleep(0.5)  # the leader is now blocked queueing its next marks
            terminated = await writer.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'gordon-drain-mark' AND datname = current_database()"
            )
            assert terminated == 1
            await holding.rollback()
            for event in events[2000:]:
                await write(writer, event)
            await wait_until(lambda: _drained(database), "every row to be published after the mark loss", 60)
            assert drain.stats.leader_terms >= 2, "the leader stepped down and led again"
    finally:
        await locker.close()
        await writer.close()
    messages = await stored(nats.jetstream())
    assert sorted(m.msg_id for m in messages) == sorted(str(e.event_id) for e in events)


async def _at_least(value: int, n: int) -> bool:
    return value >= n


async def _drained(dsn: str) -> bool:
    return await count_unpublished(dsn) == 0

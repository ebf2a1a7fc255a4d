"""The drain under scripted interleavings: nothing skipped, nothing twice, each order in version order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import PubAck

from producers.channels import ORDERS
from producers.drain.config import DrainConfig
from registry import headers as h
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.common import bot_token
from schemas.trading import OrderEvent
from tests.outbox.conftest import (
    BOT,
    EXECUTOR,
    FAST,
    Stored,
    count_unpublished,
    order_event,
    running,
    stored,
    wait_until,
    write,
)

ORDERS_CODEC = REGISTRY.codec(REGISTRY.get("trading.orders.{bot_id}"))


def decode_all(messages: list[Stored]) -> list[OrderEvent]:
    return [ORDERS_CODEC.decode(m.data) for m in messages]


async def drained(database: str) -> bool:
    return await count_unpublished(database) == 0


async def test_every_row_once_with_its_headers(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    await fresh_bus()
    events = [order_event(uuid7(), 1) for _ in range(500)]
    for event in events:
        await write(conn, event)
    async with running(database, nats) as drain:
        await wait_until(lambda: drained(database), "the outbox to drain")
    messages = await stored(nats.jetstream())
    assert [m.msg_id for m in messages] == [str(e.event_id) for e in events]
    assert decode_all(messages) == events
    first = messages[0].headers
    assert first[h.SCHEMA] == "OrderEvent:v1"
    assert first[h.SOURCE] == "executor"
    assert first[h.CONTENT_TYPE] == "application/json"
    assert drain.stats.published == 500
    assert drain.stats.duplicates == 0


async def test_low_id_held_open_is_published_when_it_commits(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    await fresh_bus()
    late = order_event(uuid7(), 1)
    holder = await asyncpg.connect(database)
    tx = holder.transaction()
    await tx.start()
    await EXECUTOR.publish_within(holder, ORDERS(bot_id=bot_token(BOT)), late)  # id 1, not committed
    early = [order_event(uuid7(), 1) for _ in range(5)]
    for event in early:
        await write(conn, event)  # ids 2..6, committed
    js = nats.jetstream()
    async with running(database, nats):
        await wait_until(lambda: _count(js, 5), "the committed rows")
        await asyncio.sleep(0.3)  # the drain keeps polling while id 1 is open
        assert len(await stored(js)) == 5
        await tx.commit()
        await wait_until(lambda: drained(database), "the late row")
    await holder.close()
    ids = [m.msg_id for m in await stored(js)]
    assert ids == [str(e.event_id) for e in early] + [str(late.event_id)]


async def _count(js: JetStreamContext, n: int) -> bool:
    return (await js.stream_info("gordon-bus")).state.messages >= n


async def test_writer_that_wrote_before_taking_the_aggregate_lock(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    """T2 writes an unrelated event first (low id, low xid), then waits for the order's row lock
    that T1 holds; T1 writes v1 and commits; T2 then writes v2. v1 must reach the stream first."""
    await fresh_bus()
    await conn.execute("CREATE TABLE trading.lock_probe (order_id uuid PRIMARY KEY, version int)")
    order = uuid7()
    await conn.execute("INSERT INTO trading.lock_probe VALUES ($1, 0)", order)
    at = ORDERS(bot_id=bot_token(BOT))
    t1 = await asyncpg.connect(database)
    t2 = await asyncpg.connect(database)
    tx1, tx2 = t1.transaction(), t2.transaction()
    await tx1.start()
    await tx2.start()
    unrelated = order_event(uuid7(), 1)
    await EXECUTOR.publish_within(t2, at, unrelated)  # T2's first write: lowest id and xid
    await t1.execute("SELECT 1 FROM trading.lock_probe WHERE order_id = $1 FOR UPDATE", order)
    v1, v2 = order_event(order, 1), order_event(order, 2)
    await EXECUTOR.publish_within(t1, at, v1)

    async def second() -> None:
        await t2.execute("SELECT 1 FROM trading.lock_probe WHERE order_id = $1 FOR UPDATE", order)
        await EXECUTOR.publish_within(t2, at, v2)
        await tx2.commit()

    blocked = asyncio.create_task(second())
    js = nats.jetstream()
    async with running(database, nats):
        await asyncio.sleep(0.2)
        assert not blocked.done()
        await tx1.commit()
        await blocked
        await wait_until(lambda: drained(database), "both transactions")
    for c in (t1, t2):
        await c.close()
    events = decode_all(await stored(js))
    assert {e.event_id for e in events} == {unrelated.event_id, v1.event_id, v2.event_id}
    versions = [e.version for e in events if e.order_id == order]
    assert versions == [1, 2]


async def test_ack_lost_mid_pipeline_republishes_from_the_first_unacked_row(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    await fresh_bus()
    order = uuid7()
    events = [order_event(order, v) for v in range(1, 41)]
    for event in events:
        await write(conn, event)
    js = nats.jetstream()
    sent = 0

    async def flaky(subject: str, payload: bytes, headers: dict[str, str]) -> asyncio.Future[PubAck]:
        """The real publish, but the 17th ack is lost on the way back (the message is stored)."""
        nonlocal sent
        sent += 1
        real = await js.publish_async(subject, payload, headers=headers, stream="gordon-bus")
        if sent != 17:
            return real
        lost: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
        real.add_done_callback(lambda _: lost.set_exception(TimeoutError("ack lost")))
        return lost

    config = DrainConfig(**{**FAST.__dict__, "batch_size": 25})
    async with running(database, nats, config, send=flaky) as drain:
        await wait_until(lambda: drained(database), "the outbox to drain")
    messages = await stored(js)
    assert [e.version for e in decode_all(messages)] == list(range(1, 41))
    assert drain.stats.transport_failures == 1
    assert drain.stats.duplicates == 40 - 16, "rows 17..40 (two flights in the air) were already stored"


async def test_unpublishable_rows_are_quarantined_and_do_not_block(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    await fresh_bus()
    before, after = order_event(uuid7(), 1), order_event(uuid7(), 1)
    await write(conn, before)
    await conn.execute(
        "INSERT INTO bus.outbox (event_id, subject, payload, schema_name, schema_version, producer)"
        " VALUES ($1, 'nowhere.at.all', '\\x7b7d', 'X', 1, 'executor'),"
        "        ($2, 'trading.orders.x', $3, 'X', 1, 'executor')",
        uuid7(),
        uuid7(),
        b"x" * (2 * 1024 * 1024),
    )
    await write(conn, after)
    async with running(database, nats) as drain:
        await wait_until(lambda: drained_or_quarantined(conn), "the outbox to settle")
    reasons = [
        r["quarantine_reason"]
        for r in await conn.fetch(
            "SELECT quarantine_reason FROM bus.outbox WHERE quarantined_at_ms IS NOT NULL ORDER BY id"
        )
    ]
    assert "outside every subject of gordon-bus" in reasons[0]
    assert "max_payload" in reasons[1]
    assert [m.msg_id for m in await stored(nats.jetstream())] == [str(before.event_id), str(after.event_id)]
    assert drain.stats.quarantined == 2


async def drained_or_quarantined(conn: asyncpg.Connection) -> bool:
    return not await conn.fetchval(
        "SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL AND quarantined_at_ms IS NULL"
    )

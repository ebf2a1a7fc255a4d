"""The drain's fast-ingest batches against a real nats-server: used when the stream allows them, every row
once and in order, a resent batch dropped by Msg-Id, a hole or a lost ack costing only a resend from the
exact stored prefix, a refused row quarantined, and the per-message path when the stream has no batches."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.js.api import StreamConfig

from producers.drain.config import DrainConfig
from registry.ids import uuid7
from schemas import REGISTRY
from tests.conftest import small_spec
from tests.outbox.conftest import (
    FAST,
    count_unpublished,
    order_event,
    running,
    stored,
    wait_until,
    write,
)
from tests.outbox.test_drain_order import decode_all, drained_or_quarantined

SMALL = DrainConfig(**{**FAST.__dict__, "fast_batch_size": 50, "batch_flow": 10, "batch_window": 2})


async def drained(database: str) -> bool:
    return await count_unpublished(database) == 0


async def write_orders(conn: asyncpg.Connection, n: int) -> list[str]:
    order = uuid7()
    events = [order_event(order, v) for v in range(1, n + 1)]
    for event in events:
        await write(conn, event)
    return [str(e.event_id) for e in events]


async def refused_row(conn: asyncpg.Connection) -> UUID:
    """A row whose stored headers the server refuses on every attempt (an impossible last sequence)."""
    bad = uuid7()
    await conn.execute(
        "INSERT INTO bus.outbox (event_id, subject, payload, headers, schema_name, schema_version, producer)"
        " VALUES ($1, 'trading.orders.x', '\\x7b7d', '{\"Nats-Expected-Last-Sequence\": \"999999\"}',"
        " 'X', 1, 'executor')",
        bad,
    )
    return bad


async def test_batches_carry_every_row_once_in_order(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    await fresh_bus()
    ids = await write_orders(conn, 230)
    async with running(database, nats, SMALL) as drain:
        await wait_until(lambda: drained(database), "the outbox to drain")
    messages = await stored(nats.jetstream())
    assert [m.msg_id for m in messages] == ids
    assert [e.version for e in decode_all(messages)] == list(range(1, 231))
    assert drain.stats.fast_batches
    assert drain.stats.published == 230
    assert drain.stats.batch_fallbacks == 0


async def test_a_resent_batch_is_dropped_by_msg_id(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    """Marks lost after the batches were stored (every row unpublished again): the resend stores nothing."""
    await fresh_bus()
    ids = await write_orders(conn, 120)
    async with running(database, nats, SMALL):
        await wait_until(lambda: drained(database), "the first pass")
    await conn.execute("UPDATE bus.outbox SET published_at_ms = NULL")
    async with running(database, nats, SMALL) as again:
        await wait_until(lambda: drained(database), "the resend")
    assert again.stats.fast_batches
    assert again.stats.published == 120, "the resend went out (and was acked)"
    assert [m.msg_id for m in await stored(nats.jetstream())] == ids, "nothing stored twice"


async def test_a_hole_in_a_batch_resends_from_the_exact_stored_prefix(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    """The 37th message never reaches the server: it ends the batch at 36, the drain marks exactly those
    and sends the rest again; nothing is lost, skipped or doubled, and the order holds."""
    await fresh_bus()
    ids = await write_orders(conn, 120)
    sent = 0

    async def lossy(subject: str, payload: bytes, reply: str, headers: dict[str, str]) -> None:
        nonlocal sent
        sent += 1
        if sent != 37:
            await nats.publish(subject, payload, reply=reply, headers=headers)

    async with running(database, nats, SMALL, publish=lossy) as drain:
        await wait_until(lambda: drained(database), "the outbox to drain")
    messages = await stored(nats.jetstream())
    assert [m.msg_id for m in messages] == ids
    assert [e.version for e in decode_all(messages)] == list(range(1, 121))
    assert drain.stats.batch_fallbacks == 1
    assert drain.stats.quarantined == 0


async def test_a_lost_commit_costs_a_deduplicated_resend(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    """The first batch's commit (its last message) is lost, so its final ack never comes: the rows the
    flow acks vouched for are marked, the rest go out again, and JetStream drops what it already had."""
    await fresh_bus()
    ids = await write_orders(conn, 120)
    sent = 0

    async def no_commit(subject: str, payload: bytes, reply: str, headers: dict[str, str]) -> None:
        nonlocal sent
        sent += 1
        if sent != SMALL.fast_rows:
            await nats.publish(subject, payload, reply=reply, headers=headers)

    config = dataclasses.replace(SMALL, ack_timeout_s=0.5)
    async with running(database, nats, config, publish=no_commit) as drain:
        await wait_until(lambda: drained(database), "the outbox to drain")
    assert [m.msg_id for m in await stored(nats.jetstream())] == ids
    assert drain.stats.batch_fallbacks == 1


async def test_a_refused_row_is_quarantined_and_the_rest_published_once(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    """A row whose stored headers the server always refuses (an impossible expected last sequence):
    the batch stops at it, the per-message resend learns it is refused, and it is quarantined."""
    await fresh_bus()
    before = await write_orders(conn, 30)
    bad = await refused_row(conn)
    after = await write_orders(conn, 30)
    async with running(database, nats, SMALL) as drain:
        await wait_until(lambda: drained_or_quarantined(conn), "the outbox to settle")
    reason = await conn.fetchval("SELECT quarantine_reason FROM bus.outbox WHERE event_id = $1", bad)
    assert reason is not None
    assert "rejected by JetStream" in reason
    assert [m.msg_id for m in await stored(nats.jetstream())] == before + after
    assert drain.stats.quarantined == 1
    assert drain.stats.fast_batches


async def test_a_stream_without_batches_gets_the_per_message_path(
    database: str,
    nats: NatsClient,
    fresh_stream: Callable[[StreamConfig], Awaitable[None]],
    conn: asyncpg.Connection,
) -> None:
    """As on a server before 2.14 (which ignores `allow_batched`): the drain publishes message by message."""
    for spec in REGISTRY.streams:
        await fresh_stream(dataclasses.replace(small_spec(spec), allow_batched=False).config())
    ids = await write_orders(conn, 60)
    async with running(database, nats, SMALL) as drain:
        await wait_until(lambda: drained(database), "the outbox to drain")
    assert not drain.stats.fast_batches
    assert [m.msg_id for m in await stored(nats.jetstream())] == ids


async def test_batches_turned_off_in_the_config(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], conn: asyncpg.Connection
) -> None:
    await fresh_bus()
    ids = await write_orders(conn, 40)
    async with running(database, nats, dataclasses.replace(SMALL, fast_batches=False)) as drain:
        await wait_until(lambda: drained(database), "the outbox to drain")
        await asyncio.sleep(0)
    assert not drain.stats.fast_batches
    assert [m.msg_id for m in await stored(nats.jetstream())] == ids


async def test_the_per_message_path_quarantines_a_refused_row_too(
    database: str,
    nats: NatsClient,
    fresh_stream: Callable[[StreamConfig], Awaitable[None]],
    conn: asyncpg.Connection,
) -> None:
    """Without batches the drain reads the refusal from the pub ack itself (nats-py's publish_async would
    report it as a timeout, and the row would block the outbox forever)."""
    for spec in REGISTRY.streams:
        await fresh_stream(dataclasses.replace(small_spec(spec), allow_batched=False).config())
    before = await write_orders(conn, 10)
    bad = await refused_row(conn)
    after = await write_orders(conn, 10)
    async with running(database, nats, SMALL) as drain:
        await wait_until(lambda: drained_or_quarantined(conn), "the outbox to settle")
    reason = await conn.fetchval("SELECT quarantine_reason FROM bus.outbox WHERE event_id = $1", bad)
    assert "wrong last sequence" in (reason or "")
    assert [m.msg_id for m in await stored(nats.jetstream())] == before + after
    assert not drain.stats.fast_batches
    assert (drain.stats.rejections, drain.stats.quarantined) == (FAST.max_rejections, 1)

"""Inbox idempotency with real Postgres and NATS: a redelivered or replayed event has its effects once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from consumers.consumer import Consumer
from consumers.delivery import Delivery
from consumers.inbox import first_time, forget_before
from registry.ids import uuid7
from registry.subject import Service
from settings import roles
from tests.consuming.conftest import TEST_REGISTRY, TICKS, Tick, publish

EFFECTS = "CREATE TABLE public.effects (event_id uuid NOT NULL, n int NOT NULL)"


@pytest.fixture
async def manager_db(database: str, dsn_for: Callable[[str, str], str]) -> AsyncIterator[asyncpg.Connection]:
    """A connection as gordon_manager, with an `effects` table it may write (the handler's domain rows)."""
    admin = await asyncpg.connect(database)
    try:
        await admin.execute(EFFECTS)
        await admin.execute(f"GRANT INSERT, SELECT ON public.effects TO {roles.MANAGER}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn_for(database, roles.MANAGER))
    try:
        yield conn
    finally:
        await conn.close()


async def handle(conn: asyncpg.Connection, delivery: Delivery[Tick]) -> bool:
    """The handler: effects and inbox row in one transaction; True when it did the effects."""
    async with conn.transaction():
        if not await first_time(conn, delivery.consumer, delivery.event.event_id):
            return False
        await conn.execute(
            "INSERT INTO public.effects VALUES ($1, $2)", delivery.event.event_id, delivery.event.n
        )
        return True


async def test_a_message_redelivered_after_commit_is_processed_once(
    bus: JetStreamContext, manager_db: asyncpg.Connection, connect: Callable[[], Awaitable[NatsClient]]
) -> None:
    events = [Tick(n=n) for n in range(3)]
    for event in events:
        await publish(bus, event)

    client = await connect()
    crashing = await Consumer.open(client.jetstream(), TEST_REGISTRY, TICKS, Service.MANAGER)
    first = await crashing.next(timeout=5)
    assert await handle(manager_db, first) is True
    await client.close()  # committed, then died before the ack

    consumer = await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.MANAGER)
    outcomes = []
    for _ in range(3):
        delivery = await consumer.next(timeout=10)
        outcomes.append((delivery.event.n, delivery.deliveries, await handle(manager_db, delivery)))
        await delivery.ack()
    await consumer.close()

    # max_ack_pending > 1: ticks 1 and 2 need not wait for tick 0's ack wait to run out.
    assert sorted(outcomes) == [(0, 2, False), (1, 1, True), (2, 1, True)]
    rows = await manager_db.fetch("SELECT n, count(*) AS c FROM public.effects GROUP BY n ORDER BY n")
    assert [(r["n"], r["c"]) for r in rows] == [(0, 1), (1, 1), (2, 1)]
    assert await manager_db.fetchval("SELECT count(*) FROM bus.inbox WHERE consumer = 'manager-tick'") == 3


async def test_a_rolled_back_handler_leaves_no_inbox_row(manager_db: asyncpg.Connection) -> None:
    event_id = uuid7()
    with pytest.raises(RuntimeError, match="effect failed"):
        async with manager_db.transaction():
            assert await first_time(manager_db, "manager-tick", event_id)
            raise RuntimeError("effect failed")
    async with manager_db.transaction():
        assert await first_time(manager_db, "manager-tick", event_id)


async def test_the_inbox_is_per_consumer(manager_db: asyncpg.Connection) -> None:
    event_id = uuid7()
    async with manager_db.transaction():
        assert await first_time(manager_db, "manager-tick", event_id)
        assert await first_time(manager_db, "manager-orders", event_id)
        assert not await first_time(manager_db, "manager-tick", event_id)


async def test_first_time_refuses_to_run_outside_a_transaction(manager_db: asyncpg.Connection) -> None:
    with pytest.raises(RuntimeError, match="inside the handler's transaction"):
        await first_time(manager_db, "manager-tick", uuid7())


async def test_concurrent_handlers_of_one_event_do_the_effects_once(
    database: str, dsn_for: Callable[[str, str], str]
) -> None:
    event_id = uuid7()
    a, b = [await asyncpg.connect(dsn_for(database, roles.EXECUTOR)) for _ in range(2)]
    try:
        ta, tb = a.transaction(), b.transaction()
        await ta.start()
        await tb.start()
        assert await first_time(a, "executor-default", event_id)
        waiting = asyncio.create_task(first_time(b, "executor-default", event_id))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the second handler waits for the first one's outcome"
        await ta.commit()
        assert await asyncio.wait_for(waiting, 10) is False
        await tb.rollback()
    finally:
        await a.close()
        await b.close()


async def test_forget_before_deletes_only_older_rows_in_batches(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        await conn.executemany(
            "INSERT INTO bus.inbox (consumer, msg_id, processed_at_ms) VALUES ($1, $2, $3)",
            [("risk-klines", uuid7(), at) for at in (100, 200, 300, 400, 500, 600, 700)],
        )
        assert await forget_before(conn, 600, batch=2) == 5
        kept = await conn.fetch("SELECT processed_at_ms FROM bus.inbox ORDER BY 1")
        assert [r["processed_at_ms"] for r in kept] == [600, 700]
        assert await forget_before(conn, 600, batch=2) == 0
        with pytest.raises(ValueError, match="batch"):
            await forget_before(conn, 600, batch=0)
    finally:
        await conn.close()


async def test_the_drain_role_may_trim_the_inbox(database: str, dsn_for: Callable[[str, str], str]) -> None:
    admin = await asyncpg.connect(database)
    try:
        await admin.execute(
            "INSERT INTO bus.inbox (consumer, msg_id, processed_at_ms) VALUES ('bot-x', $1, 1)", uuid7()
        )
    finally:
        await admin.close()
    drain = await asyncpg.connect(dsn_for(database, roles.DRAIN))
    try:
        assert await forget_before(drain, 2) == 1
    finally:
        await drain.close()

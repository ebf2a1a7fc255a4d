"""publish_within: the event commits with the domain rows or not at all, and bad events never get in."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import asyncpg
import pytest

from producers.channels import FILLS, INTENTS, ORDERS
from producers.envelope import PublishRefused
from producers.outbox import Outbox
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import Market, OrderType, Side, bot_token
from schemas.intents import OrderIntent
from tests.outbox.conftest import BOT, EXECUTOR, order_event

BOTS = Outbox(REGISTRY, Service.BOT)


def intent(reason: str = "") -> OrderIntent:
    return OrderIntent(
        intent_id=uuid7(),
        bot_id=BOT,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal("0.01"),
        created_ms=1,
        valid_until_ms=2,
        reason=reason,
    )


async def test_row_commits_with_the_transaction(conn: asyncpg.Connection) -> None:
    event = order_event(uuid7(), 1)
    async with conn.transaction():
        event_id = await EXECUTOR.publish_within(conn, ORDERS(bot_id=bot_token(BOT)), event, trace_id="t-1")
    assert event_id == event.event_id
    row = await conn.fetchrow("SELECT * FROM bus.outbox WHERE event_id = $1", event_id)
    assert row is not None
    assert row["subject"] == f"trading.orders.{bot_token(BOT)}"
    assert (row["schema_name"], row["schema_version"], row["producer"]) == ("OrderEvent", 1, "executor")
    assert row["trace_id"] == "t-1"
    assert row["published_at_ms"] is None
    assert bytes(row["payload"]) == REGISTRY.codec(ORDERS.subject).encode(event)


async def test_rollback_leaves_nothing(conn: asyncpg.Connection) -> None:
    event = order_event(uuid7(), 1)
    with pytest.raises(RuntimeError):
        async with conn.transaction():
            await EXECUTOR.publish_within(conn, ORDERS(bot_id=bot_token(BOT)), event)
            raise RuntimeError("domain write failed")
    assert await conn.fetchval("SELECT count(*) FROM bus.outbox") == 0


async def test_refuses_outside_a_transaction(conn: asyncpg.Connection) -> None:
    with pytest.raises(PublishRefused, match="open transaction"):
        await EXECUTOR.publish_within(conn, ORDERS(bot_id=bot_token(BOT)), order_event(uuid7(), 1))


async def test_refuses_another_services_subject(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        with pytest.raises(PublishRefused, match=r"bot may not publish trading\.fills"):
            await BOTS.publish_within(conn, FILLS(bot_id=bot_token(BOT)), order_event(uuid7(), 1))  # type: ignore[arg-type]


async def test_refuses_oversized_payload_before_commit(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        with pytest.raises(PublishRefused, match="over the 1040384-byte limit"):
            await BOTS.publish_within(conn, INTENTS(), intent(reason="x" * 1_100_000))
    assert await conn.fetchval("SELECT count(*) FROM bus.outbox") == 0


async def test_service_role_can_write_its_events(database: str, dsn_for: Callable[[str, str], str]) -> None:
    conn = await asyncpg.connect(dsn_for(database, "gordon_bot"))
    try:
        async with conn.transaction():
            await BOTS.publish_within(conn, INTENTS(), intent())
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetchval("SELECT count(*) FROM bus.outbox")
    finally:
        await conn.close()


async def test_many_in_one_round_trip_keep_their_order(conn: asyncpg.Connection) -> None:
    order = uuid7()
    events = [order_event(order, v) for v in (1, 2, 3)]
    async with conn.transaction():
        ids = await EXECUTOR.publish_many_within(conn, [(ORDERS(bot_id=bot_token(BOT)), e) for e in events])
    assert ids == [e.event_id for e in events]
    rows = await conn.fetch("SELECT event_id FROM bus.outbox ORDER BY id")
    assert [r["event_id"] for r in rows] == ids

"""The orders projection against real servers: order, duplicates, early arrivals, gaps, poison."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from decimal import Decimal
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient

from projections import tracking
from projections.orders import OrdersProjection
from projections.runner import ProjectionHalted
from registry.ids import uuid7
from schemas.common import Market, OrderType, Side, bot_token
from schemas.trading import OrderEvent, OrderEventKind
from tests.projecting.helpers import FAST, fresh_id, history_has, publish, rows, run_until_caught_up

ORDERS = OrdersProjection()
BOT = uuid7()
AT = f"trading.orders.{bot_token(BOT)}"


def event(order_id: UUID, version: int, kind: OrderEventKind, filled: str = "0") -> OrderEvent:
    return OrderEvent(
        order_id=order_id,
        version=version,
        kind=kind,
        bot_id=BOT,
        intent_id=order_id,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal("0.30"),
        filled_qty=Decimal(filled),
        ts_ms=1000 + version,
    )


def lifecycle(order_id: UUID) -> list[OrderEvent]:
    return [
        event(order_id, 1, OrderEventKind.SUBMITTED),
        event(order_id, 2, OrderEventKind.ACKED),
        event(order_id, 3, OrderEventKind.PARTIALLY_FILLED, "0.10"),
        event(order_id, 4, OrderEventKind.FILLED, "0.30"),
    ]


async def test_orders_fold_in_order_and_duplicates_change_nothing(
    projector: str, database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    a, b = uuid7(), uuid7()
    for e in lifecycle(a)[:2] + lifecycle(b) + lifecycle(a)[2:]:
        await publish(js, AT, e)
    await publish(js, AT, lifecycle(a)[1], msg_id=fresh_id())  # resent after the dedup window
    await history_has(js, 9)
    stats = await run_until_caught_up(ORDERS, projector, js)
    assert stats.applied == 8
    assert stats.duplicates == 1
    got = {r["order_id"]: r for r in await rows(database, "SELECT * FROM trading.orders")}
    assert {k: (v["status"], v["filled_qty"], v["version"]) for k, v in got.items()} == {
        a: ("filled", Decimal("0.30"), 4),
        b: ("filled", Decimal("0.30"), 4),
    }
    conn = await asyncpg.connect(database)
    assert (await tracking.read(conn, "proj_orders_1")).last_seq == 9
    await conn.close()


async def test_an_event_ahead_of_its_predecessor_waits_and_tracking_stays_below_it(
    projector: str, database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    a = uuid7()
    first, second, third, fourth = lifecycle(a)
    for e in (first, third, second, fourth):  # v3 arrives before v2
        await publish(js, AT, e)
    await history_has(js, 4)
    stats = await run_until_caught_up(ORDERS, projector, js)
    assert stats.buffered == 1
    (row,) = await rows(database, "SELECT status, version FROM trading.orders")
    assert tuple(row) == ("filled", 4)


async def test_a_gap_that_does_not_fill_halts_with_aggregate_versions_and_sequence(
    projector: str, database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    a = uuid7()
    first, _, third, _ = lifecycle(a)
    await publish(js, AT, first)
    await publish(js, AT, third)
    await history_has(js, 2)
    with pytest.raises(ProjectionHalted) as halted:
        await run_until_caught_up(ORDERS, projector, js, dataclasses.replace(FAST, gap_timeout_s=0.3))
    assert halted.value.seq == 2
    assert f"aggregate {a} has version 1, version 3 at seq 2" in halted.value.reason
    conn = await asyncpg.connect(database)
    state = await tracking.read(conn, "proj_orders_1")
    await conn.close()
    assert state.last_seq == 1, "the tracking row never passes the unapplied event"
    assert state.halted_seq == 2
    assert "gap did not fill" in (state.halted_reason or "")


async def test_a_poison_event_halts_and_is_not_skipped(
    projector: str, database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    a = uuid7()
    await publish(js, AT, event(a, 1, OrderEventKind.SUBMITTED))
    await publish(js, AT, event(a, 2, OrderEventKind.FILLED, "0.30"))  # filled before acked
    await history_has(js, 2)
    with pytest.raises(ProjectionHalted, match="IllegalTransition") as halted:
        await run_until_caught_up(ORDERS, projector, js)
    assert halted.value.seq == 2
    with pytest.raises(ProjectionHalted):  # a restart meets the same event and halts again
        await run_until_caught_up(ORDERS, projector, js)
    (row,) = await rows(database, "SELECT status, version FROM trading.orders")
    assert tuple(row) == ("submitted", 1)

"""The write side: aggregates loaded from their own rows under a row lock; their events reach the read
models through the outbox, the drain and the history stream, equal to the aggregates' own state."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal
from uuid import UUID

import asyncpg
from nats.aio.client import Client as NatsClient

from domain.order_aggregate import Order
from domain.positions import PositionState, apply_fill
from producers.outbox import Outbox
from projections import generations
from projections.catalog import PROJECTIONS
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import Market, OrderType, Side
from schemas.risk import Breaker
from schemas.trading import Fill, Liquidity
from stores.fills import FillStore
from stores.latch import LatchStore
from stores.orders import OrderStore
from tests.outbox.conftest import FAST, count_unpublished, running, wait_until
from tests.projecting.helpers import rows, run_until_caught_up

EXECUTOR = Outbox(REGISTRY, Service.EXECUTOR)
ORDERS = OrderStore(EXECUTOR)
FILLS = FillStore(EXECUTOR)
LATCH = LatchStore(Outbox(REGISTRY, Service.RISK))


async def place(conn: asyncpg.Connection, bot: UUID, side: Side, qty: Decimal, ts: int) -> UUID:
    order_id = uuid7()
    async with conn.transaction():
        assert await ORDERS.load(conn, order_id) is None
        order = Order.submit(
            order_id=order_id,
            bot_id=bot,
            intent_id=uuid7(),
            symbol="BTCUSDT",
            market=Market.SPOT,
            side=side,
            order_type=OrderType.MARKET,
            qty=qty,
            limit_price=None,
            ts_ms=ts,
        )
        await ORDERS.save(conn, order)
    return order_id


async def fill(conn: asyncpg.Connection, order_id: UUID, qty: Decimal, price: float, ts: int) -> None:
    """Ack if needed, then fill `qty`: the order event and the fill commit together."""
    async with conn.transaction():
        order = await ORDERS.load(conn, order_id)
        assert order is not None
        if order.status.value == "submitted":
            order.ack(ts_ms=ts)
        order.fill(qty, ts_ms=ts)
        state = order.state
        version = await FILLS.next_version(conn, state.bot_id, state.symbol)
        await ORDERS.save(conn, order)
        await FILLS.record(
            conn,
            Fill(
                fill_id=uuid7(),
                bot_id=state.bot_id,
                order_id=order_id,
                version=version,
                symbol=state.symbol,
                market=state.market,
                side=state.side,
                qty=qty,
                price=price,
                fee=(qty * Decimal(str(price)) * Decimal("0.001")).quantize(Decimal("1e-8")),
                fee_asset="USDT",
                liquidity=Liquidity.TAKER,
                ts_ms=ts,
            ),
        )


async def test_concurrent_writers_of_one_order_take_turns(database: str) -> None:
    a, b = await asyncpg.connect(database), await asyncpg.connect(database)
    bot = uuid7()
    order_id = await place(a, bot, Side.BUY, Decimal("1.0"), 1)
    tx = a.transaction()
    await tx.start()
    held = await ORDERS.load(a, order_id)
    assert held is not None
    held.ack(ts_ms=2)
    second = asyncio.create_task(fill(b, order_id, Decimal("0.4"), 100.0, 3))
    await asyncio.sleep(0.2)
    assert not second.done(), "the second writer waits for the order's row lock"
    await ORDERS.save(a, held)
    await tx.commit()
    await second
    versions = [
        r["version"] for r in await a.fetch("SELECT version FROM trading.order_events ORDER BY version")
    ]
    assert versions == [1, 2, 3]
    kinds = [r["kind"] for r in await a.fetch("SELECT kind FROM trading.order_events ORDER BY version")]
    assert kinds == ["submitted", "acked", "partially_filled"]
    for c in (a, b):
        await c.close()


async def test_fixed_seed_trading_run_reaches_the_read_models(
    database: str,
    dsn_for: Callable[[str, str], str],
    nats: NatsClient,
    fresh_bus: Callable[[], Awaitable[None]],
) -> None:
    await fresh_bus()
    rng = random.Random(42)
    owner = await asyncpg.connect(database)
    for projection in PROJECTIONS.values():
        await generations.ensure_live(owner, projection)
    bots = [uuid7(), uuid7()]
    orders: dict[UUID, Decimal] = {}
    ts = 1_000
    for _ in range(40):
        ts += 1
        if not orders or rng.random() < 0.4:
            qty = Decimal(rng.randint(1, 20)) / 10
            orders[await place(owner, rng.choice(bots), rng.choice([Side.BUY, Side.SELL]), qty, ts)] = qty
            continue
        order_id = rng.choice(list(orders))
        left = orders[order_id]
        part = left if rng.random() < 0.5 else (left / 2).quantize(Decimal("0.1"))
        if part <= 0:
            continue
        await fill(owner, order_id, part, round(rng.uniform(95, 105), 2), ts)
        orders[order_id] = left - part
        if orders[order_id] == 0:
            del orders[order_id]
    latch = await LATCH.load(owner)
    latch.trip(Breaker.DRAWDOWN, 0.07, 0.05, "drawdown 7%", ts_ms=ts)
    async with owner.transaction():
        await LATCH.save(owner, latch)

    async with running(database, nats, FAST):
        await wait_until(lambda: _drained(database), "the outbox to drain")
    js = nats.jetstream()
    projector = dsn_for(database, "gordon_projector")
    for projection in PROJECTIONS.values():
        await run_until_caught_up(projection, projector, js)

    event_rows = await owner.fetch("SELECT order_id FROM trading.order_events GROUP BY order_id")
    for r in event_rows:
        async with owner.transaction():
            order = await ORDERS.load(owner, r["order_id"])
        assert order is not None
        (view,) = await owner.fetch("SELECT * FROM trading.orders WHERE order_id = $1", r["order_id"])
        assert (view["status"], view["filled_qty"], view["version"]) == (
            order.state.status.value,
            order.state.filled_qty,
            order.state.version,
        )
    expected: dict[tuple[UUID, str], PositionState] = {}
    for f in await owner.fetch("SELECT * FROM trading.fill_events ORDER BY bot_id, symbol, version"):
        fill_event = Fill(**{k: v for k, v in dict(f).items()})
        key = (fill_event.bot_id, fill_event.symbol)
        expected[key] = apply_fill(expected.get(key), fill_event)
    positions = {
        (p["bot_id"], p["symbol"]): p for p in await rows(database, "SELECT * FROM trading.positions")
    }
    assert {k: (v["qty"], v["realized_pnl"], v["fees"]) for k, v in positions.items()} == {
        k: (v.qty, v.realized_pnl, v.fees) for k, v in expected.items()
    }
    (risk,) = await rows(database, "SELECT halted, breaker, version FROM trading.risk_state")
    assert tuple(risk) == (True, "drawdown", 1)
    await owner.close()


async def _drained(dsn: str) -> bool:
    return await count_unpublished(dsn) == 0

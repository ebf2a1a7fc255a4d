"""Orders on the write side: `trading.order_events` is the executor's record; the Order decides."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.order_aggregate import Order
from producers.channels import ORDERS
from producers.outbox import Outbox
from schemas.common import bot_token
from schemas.trading import OrderEvent
from stores import heads

COLUMNS = (
    "order_id, version, event_id, kind, bot_id, intent_id, symbol, market, side, order_type, qty, "
    "limit_price, filled_qty, reason, ts_ms"
)
INSERT = f"INSERT INTO trading.order_events ({COLUMNS}) VALUES ({', '.join(f'${i}' for i in range(1, 16))})"


class OrderStore:
    """Loads and saves `Order` aggregates for the executor."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def load(self, tx: asyncpg.Connection, order_id: UUID) -> Order | None:
        """The order under its row lock, rebuilt from its own events (never from the read model)."""
        version = await heads.lock(tx, "order", str(order_id))
        if version == 0:
            return None
        rows = await tx.fetch(
            f"SELECT {COLUMNS} FROM trading.order_events WHERE order_id = $1 ORDER BY version", order_id
        )
        return Order.from_events([OrderEvent(**dict(r)) for r in rows])

    async def save(self, tx: asyncpg.Connection, order: Order) -> list[OrderEvent]:
        """Append the order's new events, move its head, and put each on the outbox; returns them."""
        events = order.collect_payloads()
        if not events:
            return []
        head = await heads.lock(tx, "order", str(events[0].order_id))
        if events[0].version != head + 1:
            raise RuntimeError(f"order {events[0].order_id}: version {events[0].version} after head {head}")
        await tx.executemany(INSERT, [_row(e) for e in events])
        await heads.advance(tx, "order", str(events[0].order_id), events[-1].version)
        address = ORDERS(bot_id=bot_token(events[0].bot_id))
        for event in events:
            await self.outbox.publish_within(tx, address, event)
        return events


def _row(e: OrderEvent) -> tuple[object, ...]:
    return (
        e.order_id,
        e.version,
        e.event_id,
        e.kind.value,
        e.bot_id,
        e.intent_id,
        e.symbol,
        e.market.value,
        e.side.value,
        e.order_type.value,
        e.qty,
        e.limit_price,
        e.filled_qty,
        e.reason,
        e.ts_ms,
    )

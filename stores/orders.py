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
from stores.rows import EventTable

EVENTS = EventTable(OrderEvent, "trading.order_events")
LOAD = EVENTS.select("order_id = $1")


class OrderStore:
    """Loads and saves `Order` aggregates for the executor."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def load(self, tx: asyncpg.Connection, order_id: UUID) -> Order | None:
        """The order under its row lock, rebuilt from its own events (never from the read model)."""
        version = await heads.lock(tx, "order", str(order_id))
        if version == 0:
            return None
        return Order.from_events([EVENTS.event(r) for r in await tx.fetch(LOAD, order_id)])

    async def save(self, tx: asyncpg.Connection, order: Order) -> list[OrderEvent]:
        """Append the order's new events, move its head, and put each on the outbox; returns them."""
        events = order.collect_payloads()
        if not events:
            return []
        head = await heads.lock(tx, "order", str(events[0].order_id))
        if events[0].version != head + 1:
            raise RuntimeError(f"order {events[0].order_id}: version {events[0].version} after head {head}")
        await EVENTS.append(tx, events)
        await heads.advance(tx, "order", str(events[0].order_id), events[-1].version)
        address = ORDERS(bot_id=bot_token(events[0].bot_id))
        for event in events:
            await self.outbox.publish_within(tx, address, event)
        return events

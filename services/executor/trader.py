"""The executor's order path: submit, ack and fill on the paper exchange, recorded as events and booked.

Every method runs inside the caller's transaction: the order events (OrderStore), the fill (FillStore,
next version per bot and symbol), its trade row, the paper books and the outbox rows commit together or
not at all. Each write to the exchange's books is fenced by this process's token for the bot
(services/executor/fencing.py): a `Fenced` write rolls all of it back.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from uuid import UUID

import asyncpg

from domain.order_aggregate import Order
from domain.orders import TERMINAL, TERMS, OrderState
from domain.symbols import UnknownSymbol, split_symbol
from producers.outbox import Outbox
from registry.ids import uuid7
from schemas.common import OrderType
from schemas.intents import OrderIntent
from schemas.trading import Fill
from services.executor.fencing import Fenced, Fences
from services.executor.paper import Execution, PaperExchange
from services.executor.trades import record_trade
from stores.fills import FillStore
from stores.orders import OrderStore

OPEN_ORDERS = """
SELECT order_id FROM paper.orders
WHERE status IN ('acked', 'partially_filled') AND ($1::uuid IS NULL OR bot_id = $1)
ORDER BY order_id
"""


FROM_ORDER = tuple(
    f for f in Fill.model_fields if f in {o.name for o in fields(OrderState)} - {"qty", "version"}
)
"""What a fill repeats of its order (bot, order, symbol, market, side); the execution gives the rest."""


class Trader:
    """Places orders on the paper exchange and records what happened, in the caller's transaction."""

    def __init__(self, outbox: Outbox, exchange: PaperExchange, fences: Fences) -> None:
        self.orders = OrderStore(outbox)
        self.fills = FillStore(outbox)
        self.exchange = exchange
        self.fences = fences

    async def place(self, tx: asyncpg.Connection, request: OrderIntent, now_ms: int) -> OrderState:
        """Submit a new order on the terms of `request` (a bot's intent, or a flatten's closing order);
        it is rejected (no price, unknown symbol), filled, or left resting."""
        terms = {f: getattr(request, f) for f in TERMS}
        order = Order.submit(order_id=uuid7(now_ms), ts_ms=now_ms, **terms)
        refusal = _refusal(request)
        close = (
            None if refusal else await self.exchange.last_close(tx, request.market, request.symbol, now_ms)
        )
        if refusal is None and close is None:
            refusal = f"no 1m price for {request.market.value} {request.symbol} at {now_ms}"
        if refusal is not None or close is None:
            order.reject(refusal or "no price", ts_ms=now_ms)
            return await self._save(tx, order, None, now_ms)
        order.ack(ts_ms=now_ms)
        limit = request.limit_price if request.order_type is OrderType.LIMIT else None
        taken = self.exchange.take(request.symbol, request.side, request.qty, close, limit)
        return await self._save(tx, order, taken, now_ms)

    async def fill_resting(self, tx: asyncpg.Connection, order_id: UUID, now_ms: int) -> bool:
        """Fill a resting limit order if the price has traded through its limit; True when it filled."""
        order = await self.orders.load(tx, order_id)
        if order is None or order.status in TERMINAL:
            return False
        execution = await self.exchange.crossed(tx, order.state, now_ms)
        if execution is None:
            return False
        await self._save(tx, order, execution, now_ms)
        return True

    async def cancel_open(self, tx: asyncpg.Connection, bot_id: UUID | None, reason: str, now_ms: int) -> int:
        """Cancel the resting orders of `bot_id` (None: of every bot); returns how many."""
        cancelled = 0
        for order_id in await self.open_order_ids(tx, bot_id):
            order = await self.orders.load(tx, order_id)
            if order is None or order.status in TERMINAL:
                continue
            order.cancel(reason, ts_ms=now_ms)
            await self._save(tx, order, None, now_ms)
            cancelled += 1
        return cancelled

    async def open_order_ids(self, conn: asyncpg.Connection, bot_id: UUID | None = None) -> list[UUID]:
        """The orders resting on the paper exchange (of `bot_id`, or of every bot)."""
        return [r["order_id"] for r in await conn.fetch(OPEN_ORDERS, bot_id)]

    async def _save(
        self, tx: asyncpg.Connection, order: Order, execution: Execution | None, now_ms: int
    ) -> OrderState:
        if execution is not None:
            order.fill(execution.qty, ts_ms=now_ms)
        await self.orders.save(tx, order)
        state = order.state
        try:
            await self.exchange.book_order(tx, state, await self.fences.token(state.bot_id))
        except Fenced as fenced:
            self.fences.fenced(fenced)
            raise
        if execution is not None:
            fill = Fill(
                fill_id=uuid7(now_ms),
                version=await self.fills.next_version(tx, state.bot_id, state.symbol),
                ts_ms=now_ms,
                **{f: getattr(state, f) for f in FROM_ORDER},
                **asdict(execution),
            )
            await self.fills.record(tx, fill)
            await self.exchange.book_fill(tx, fill)
            await record_trade(tx, fill)
        return state


def _refusal(request: OrderIntent) -> str | None:
    """Why the exchange refuses the order before pricing it, or None."""
    try:
        split_symbol(request.symbol)
    except UnknownSymbol as exc:
        return str(exc)
    if request.order_type is OrderType.LIMIT and request.limit_price is None:
        return "a limit order needs a limit price"
    return None

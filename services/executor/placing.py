"""Order intents: one receipt per `intent_id`, decided and written in one transaction.

In that transaction, in order: a receipt already there means a redelivery (nothing changes); an intent
past `valid_until_ms` is dropped ('expired'); the executor's own pause switch (`executor_controls`, read
FOR SHARE so a pause command waits for, or is seen by, every placing transaction) refuses it ('paused');
the global halt latch (`trading.risk_state`) refuses it ('halted', also when that view does not exist: no
latch projection means the halt cannot be checked, so the executor fails closed); a spot sell beyond the
bot's holding, or an intent past a daily notional cap (services/executor/caps.py), is 'rejected';
otherwise the order is placed on the paper exchange ('placed', or 'rejected' when the exchange refuses it)
and its notional is counted to the day's totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import cast
from uuid import UUID

import asyncpg

from domain.orders import OrderStatus
from schemas.common import Market, OrderType, Side
from schemas.intents import OrderIntent
from services.executor import caps
from services.executor.holdings import position_of
from services.executor.trader import Trader

RECEIPT = """
INSERT INTO trading.intent_receipts (intent_id, order_id, outcome, reason, ts_ms)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (intent_id) DO NOTHING RETURNING 1
"""
PAUSED = "SELECT paused, reason FROM trading.executor_controls WHERE id = 1 FOR SHARE"
HALTED = "SELECT halted, breaker, reason FROM trading.risk_state WHERE latch_id = 'global'"


class Outcome(StrEnum):
    PLACED = "placed"
    EXPIRED = "expired"
    HALTED = "halted"
    PAUSED = "paused"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Receipt:
    """What the executor did with one intent."""

    intent_id: UUID
    outcome: Outcome
    order_id: UUID | None
    reason: str
    ts_ms: int


class Placing:
    """Handles `intents.executor`."""

    def __init__(self, trader: Trader) -> None:
        self.trader = trader

    async def handle(self, pool: asyncpg.Pool, intent: OrderIntent, now_ms: int) -> Receipt | None:
        """Decide `intent` once; None when it was already decided (a redelivery)."""
        async with pool.acquire() as proxy, proxy.transaction():
            return await self.decide(cast(asyncpg.Connection, proxy), intent, now_ms)

    async def decide(self, tx: asyncpg.Connection, intent: OrderIntent, now_ms: int) -> Receipt | None:
        if await tx.fetchval("SELECT 1 FROM trading.intent_receipts WHERE intent_id = $1", intent.intent_id):
            return None
        refusal = await _refusal(tx, intent, now_ms) or await self._short_on_spot(tx, intent)
        if refusal is not None:
            return await _receipt(tx, Receipt(intent.intent_id, refusal[0], None, refusal[1], now_ms))
        notional = await self._notional(tx, intent, now_ms)
        capped = None if notional is None else await caps.refusal(tx, intent.bot_id, notional, now_ms)
        if capped is not None:
            return await _receipt(tx, Receipt(intent.intent_id, Outcome.REJECTED, None, capped, now_ms))
        order = await self.trader.place(tx, intent, now_ms)
        outcome = Outcome.REJECTED if order.status is OrderStatus.REJECTED else Outcome.PLACED
        if outcome is Outcome.PLACED and notional is not None:
            await caps.count(tx, intent.bot_id, notional, now_ms)
        return await _receipt(tx, Receipt(intent.intent_id, outcome, order.order_id, order.reason, now_ms))

    async def _notional(self, tx: asyncpg.Connection, intent: OrderIntent, now_ms: int) -> Decimal | None:
        """qty at the limit price, or at the latest 1m close; None without a price (the exchange rejects)."""
        price = intent.limit_price if intent.order_type is OrderType.LIMIT else None
        if price is None:
            close = await self.trader.exchange.last_close(tx, intent.market, intent.symbol, now_ms)
            price = close.price if close is not None else None
        return None if price is None else intent.qty * Decimal(str(price))

    async def _short_on_spot(self, tx: asyncpg.Connection, intent: OrderIntent) -> tuple[Outcome, str] | None:
        """A spot sell beyond what the bot holds would need a short: spot has none, so it is rejected."""
        if intent.market is not Market.SPOT or intent.side is not Side.SELL:
            return None
        position = await position_of(tx, self.trader.fills, intent.bot_id, intent.symbol)
        held = position.qty if position is not None else Decimal(0)
        if intent.qty > held:
            return Outcome.REJECTED, f"spot sell of {intent.qty} exceeds the {held} held (no shorts on spot)"
        return None


async def _refusal(tx: asyncpg.Connection, intent: OrderIntent, now_ms: int) -> tuple[Outcome, str] | None:
    if intent.valid_until_ms < now_ms:
        return Outcome.EXPIRED, f"valid until {intent.valid_until_ms}, now {now_ms}"
    if intent.qty <= 0:
        return Outcome.REJECTED, f"qty must be positive, got {intent.qty}"
    controls = await tx.fetchrow(PAUSED)
    if controls is not None and controls["paused"]:
        return Outcome.PAUSED, controls["reason"] or "paused"
    if await tx.fetchval("SELECT to_regclass('trading.risk_state')") is None:
        return Outcome.HALTED, "trading.risk_state does not exist: the halt latch cannot be checked"
    latch = await tx.fetchrow(HALTED)
    if latch is not None and latch["halted"]:
        return Outcome.HALTED, f"{latch['breaker']}: {latch['reason']}"
    return None


async def _receipt(tx: asyncpg.Connection, receipt: Receipt) -> Receipt:
    """Write the receipt. If a concurrent handler of the same intent committed first, the insert waits for
    it and then raises `DuplicateIntent`, rolling back this transaction's order writes; the redelivery
    that follows the NAK finds the receipt and changes nothing."""
    written = await tx.fetchval(
        RECEIPT, receipt.intent_id, receipt.order_id, receipt.outcome.value, receipt.reason, receipt.ts_ms
    )
    if written is None:
        raise DuplicateIntent(f"intent {receipt.intent_id} was decided by another handler first")
    return receipt


class DuplicateIntent(RuntimeError):
    """Two handlers decided one intent at once; the later one rolls back and, redelivered, skips it."""

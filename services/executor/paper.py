"""The paper exchange: prices from the 1m klines, a slippage and fee model, and its own books.

Pricing: a market order fills at once, in full, at the latest 1m close of its market and symbol (klines
opened at or before now, read through `market_data.v_klines_reader`) moved against the taker by
`slippage_bps` (a buy pays close x (1 + bps/10 000), a sell gets close x (1 - bps/10 000)). With no kline
the order is rejected. A limit order that is marketable on arrival (buy limit >= close, sell limit <= close)
fills at once like a market order, its price capped at the limit; otherwise it rests, and fills in full at
its limit price as soon as a later 1m kline trades through it (buy: low <= limit; sell: high >= limit).

Each execution names the open time of the kline its price comes from (`Fill.priced_at_ms`: the latest
1m kline for a taker, the last kline of the range that traded through the limit for a maker), so a chart
marks the fill at the bar it traded on even when the market data is not live (the demo feed replays the
past faster than real time while fills carry the executor's clock in `ts_ms`).

Fees, always in the quote asset (the fill's `fee_asset`, e.g. USDT of BTCUSDT): taker 0.10% of the fill's
notional (qty x price) for market orders and marketable limits, maker 0.02% for resting limit fills;
quantized to 1e-8, half to even (the positions reducer's rule).

Books: `paper.orders` (one row per order: qty, filled qty, status) and `paper.fills` are written in the
transaction that records the executor's own order and fill events, so the two sides can only differ by
tampering, which the reconcile reports. Each order write first admits the writer's fencing token for the
order's bot (services/executor/fencing.py; `paper.fence_tokens`, and the order's `fence_token`): a write
of an executor process older than one that has already written for the bot raises `Fenced`, and the
whole transaction (order events, fill, trade, outbox rows, receipt) rolls back. A fill is booked after
its order in the same transaction, so it is fenced with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from domain.orders import OrderState
from domain.positions import quantize
from domain.symbols import split_symbol
from schemas.common import Market, Side
from schemas.trading import Fill, Liquidity
from services.executor.fencing import admit

BPS = Decimal(10_000)

LAST_CLOSE = """
SELECT close, open_time_ms FROM market_data.v_klines_reader
WHERE market = $1 AND symbol = $2 AND tf = '1m' AND open_time_ms <= $3
ORDER BY open_time_ms DESC LIMIT 1
"""

CROSSED = """
SELECT min(low) AS low, max(high) AS high, max(open_time_ms) AS last_open_ms FROM market_data.v_klines_reader
WHERE market = $1 AND symbol = $2 AND tf = '1m' AND open_time_ms >= $3 AND open_time_ms <= $4
"""

BOOK_ORDER = """
INSERT INTO paper.orders (order_id, bot_id, symbol, side, qty, filled_qty, status, ts_ms, fence_token)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (order_id) DO UPDATE SET filled_qty = EXCLUDED.filled_qty, status = EXCLUDED.status,
    ts_ms = EXCLUDED.ts_ms, fence_token = EXCLUDED.fence_token
"""

BOOK_FILL = """
INSERT INTO paper.fills (fill_id, order_id, qty, price, fee, fee_asset, ts_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""


@dataclass(frozen=True)
class FeeModel:
    """Fee rates as fractions of notional, charged in the quote asset."""

    taker: Decimal = Decimal("0.001")
    maker: Decimal = Decimal("0.0002")

    def fee(self, qty: Decimal, price: float, liquidity: Liquidity) -> Decimal:
        rate = self.taker if liquidity is Liquidity.TAKER else self.maker
        return quantize(qty * Decimal(str(price)) * rate)


@dataclass(frozen=True)
class Close:
    """The latest 1m close a taker is priced at, and the open time of its kline."""

    price: float
    open_ms: int


@dataclass(frozen=True)
class Execution:
    """What the paper exchange did with (part of) an order: price, fee and who took liquidity."""

    qty: Decimal
    price: float
    fee: Decimal
    fee_asset: str
    liquidity: Liquidity
    priced_at_ms: int
    """The open time of the 1m kline the price comes from."""


@dataclass(frozen=True)
class PaperExchange:
    """Prices and fills orders against the stored klines; see the module docstring for the rules."""

    fees: FeeModel = FeeModel()
    slippage_bps: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.slippage_bps < 0:
            raise ValueError(f"slippage must be at least 0 bps, got {self.slippage_bps}")

    async def last_close(
        self, conn: asyncpg.Connection, market: Market, symbol: str, now_ms: int
    ) -> Close | None:
        """The latest 1m close of `symbol` on `market` opened at or before `now_ms`; None without klines."""
        row = await conn.fetchrow(LAST_CLOSE, market.value, symbol, now_ms)
        return None if row is None else Close(float(row["close"]), int(row["open_time_ms"]))

    def taker_price(self, side: Side, close: float) -> float:
        """The close moved against the taker by the slippage."""
        move = self.slippage_bps / BPS
        factor = Decimal(1) + move if side is Side.BUY else Decimal(1) - move
        return float(quantize(Decimal(str(close)) * factor))

    def take(
        self, symbol: str, side: Side, qty: Decimal, close: Close, limit: float | None
    ) -> Execution | None:
        """Fill `qty` now as taker (a market order, or a limit marketable at `close`); None if it rests."""
        at = close.price
        if limit is not None and not (at <= limit if side is Side.BUY else at >= limit):
            return None
        price = self.taker_price(side, at)
        if limit is not None:
            price = min(price, limit) if side is Side.BUY else max(price, limit)
        return self._execution(symbol, qty, price, Liquidity.TAKER, close.open_ms)

    async def crossed(self, conn: asyncpg.Connection, order: OrderState, now_ms: int) -> Execution | None:
        """The maker fill of a resting limit order's remainder once a kline since it rests trades through."""
        if order.limit_price is None:
            return None
        row = await conn.fetchrow(CROSSED, order.market.value, order.symbol, order.created_ms, now_ms)
        if row is None or row["low"] is None:
            return None
        limit = order.limit_price
        hit = row["low"] <= limit if order.side is Side.BUY else row["high"] >= limit
        if not hit:
            return None
        remainder = order.qty - order.filled_qty
        return self._execution(order.symbol, remainder, limit, Liquidity.MAKER, int(row["last_open_ms"]))

    def _execution(
        self, symbol: str, qty: Decimal, price: float, liquidity: Liquidity, priced_at_ms: int
    ) -> Execution:
        _, quote = split_symbol(symbol)
        return Execution(qty, price, self.fees.fee(qty, price, liquidity), quote, liquidity, priced_at_ms)

    async def book_order(self, tx: asyncpg.Connection, order: OrderState, token: int) -> None:
        """Write the order's status and filled quantity into the exchange's own book, once the exchange
        has admitted the writer's fencing `token` for the order's bot (else `Fenced`, nothing written)."""
        await admit(tx, order.bot_id, token, order.updated_ms)
        await tx.execute(
            BOOK_ORDER,
            order.order_id,
            order.bot_id,
            order.symbol,
            order.side.value,
            order.qty,
            order.filled_qty,
            order.status.value,
            order.updated_ms,
            token,
        )

    async def book_fill(self, tx: asyncpg.Connection, fill: Fill) -> None:
        await tx.execute(
            BOOK_FILL, fill.fill_id, fill.order_id, fill.qty, fill.price, fill.fee, fill.fee_asset, fill.ts_ms
        )

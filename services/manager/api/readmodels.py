"""Reads of the trading.* views (the projections' live generations) as the domain's states, of the bots'
configurations, runs, leases and lifecycle events, and of prices through `market_data.v_klines_reader`
(the one view services read).

A view is missing until its projection's first generation exists; that is `ReadModelMissing`, which
the app answers with 503 naming the view, not a 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from domain.latch import LatchState, open_latch
from domain.orders import OrderState, OrderStatus
from domain.positions import PositionState
from projections.fills import TABLE as FILLS
from projections.fills import FillRow
from projections.latch import TABLE as LATCHES
from projections.orders import TABLE as ORDERS
from projections.positions import TABLE as POSITIONS
from schemas.common import Market, Timeframe


class ReadModelMissing(LookupError):
    """A trading.* view does not exist yet (no live projection generation)."""

    def __init__(self, view: str) -> None:
        super().__init__(f"trading.{view} does not exist yet: its projection has no live generation")
        self.view = view


ORDER_COLUMNS = ", ".join(ORDERS.columns)
LIST_ORDERS = f"""
SELECT {ORDER_COLUMNS} FROM trading.orders
WHERE ($1::uuid IS NULL OR bot_id = $1) AND ($2::text IS NULL OR status = $2)
  AND ($3::uuid IS NULL OR order_id < $3)
ORDER BY order_id DESC LIMIT $4
"""
ONE_ORDER = f"SELECT {ORDER_COLUMNS} FROM trading.orders WHERE order_id = $1"
LIST_POSITIONS = f"""
SELECT {", ".join(POSITIONS.columns)} FROM trading.positions
WHERE ($1::uuid IS NULL OR bot_id = $1) ORDER BY bot_id, symbol
"""
LIST_FILLS = f"""
SELECT {", ".join(FILLS.columns)} FROM trading.fills
WHERE ($1::uuid IS NULL OR bot_id = $1) AND ($2::text IS NULL OR symbol = $2)
  AND ($3::uuid IS NULL OR fill_id < $3)
ORDER BY fill_id DESC LIMIT $4
"""
LAST_CLOSE = """
SELECT close, close_time_ms FROM market_data.v_klines_reader
WHERE market = $1 AND symbol = $2 AND tf = '1m' ORDER BY open_time_ms DESC LIMIT 1
"""
KLINE_COLUMNS = "open_time_ms, close_time_ms, open, high, low, close, volume"
NEWEST_KLINES = f"""
SELECT {KLINE_COLUMNS} FROM market_data.v_klines_reader
WHERE market = $1 AND symbol = $2 AND tf = $3 ORDER BY open_time_ms DESC LIMIT $4
"""
KLINES_AFTER = f"""
SELECT {KLINE_COLUMNS} FROM market_data.v_klines_reader
WHERE market = $1 AND symbol = $2 AND tf = $3 AND open_time_ms > $5 ORDER BY open_time_ms LIMIT $4
"""
BOT_CONFIGS = """
SELECT c.bot_id, c.strategy, c.symbol, c.market, c.tf, c.params::text AS params, c.desired_state,
       c.created_ms, r.id AS run_id, r.mode AS run_mode, r.started_ms AS run_started_ms,
       l.holder AS lease_holder, l.acquired_ms AS lease_acquired_ms, l.renewed_ms AS lease_renewed_ms,
       e.id AS event_id, e.kind AS event_kind, e.detail AS event_detail, e.run_id AS event_run_id,
       e.ts_ms AS event_ts_ms
FROM trading.bot_configs c
LEFT JOIN trading.runs r ON r.bot_id = c.bot_id AND r.status = 'running'
LEFT JOIN trading.bot_leases l ON l.bot_id = c.bot_id
LEFT JOIN LATERAL (
    SELECT id, kind, detail, run_id, ts_ms FROM trading.bot_events
    WHERE bot_id = c.bot_id ORDER BY id DESC LIMIT 1
) e ON true
ORDER BY c.created_ms, c.bot_id
"""
BOT_EXISTS = "SELECT EXISTS (SELECT 1 FROM trading.bot_configs WHERE bot_id = $1)"
BOT_EVENTS = """
SELECT id, kind, detail, run_id, ts_ms FROM trading.bot_events
WHERE bot_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3
"""
ONE_LATCH = f"SELECT {', '.join(LATCHES.columns)} FROM trading.risk_state WHERE latch_id = $1"


async def _fetch(pool: asyncpg.Pool, view: str, query: str, *args: object) -> list[asyncpg.Record]:
    try:
        return list(await pool.fetch(query, *args))
    except asyncpg.UndefinedTableError:
        raise ReadModelMissing(view) from None


async def fetch_orders(
    pool: asyncpg.Pool, bot_id: UUID | None, status: OrderStatus | None, *, before: UUID | None, limit: int
) -> list[OrderState]:
    """Up to `limit` orders with ids below `before`, newest first."""
    status_text = status.value if status is not None else None
    rows = await _fetch(pool, "orders", LIST_ORDERS, bot_id, status_text, before, limit)
    return [ORDERS.state(r) for r in rows]


async def fetch_order(pool: asyncpg.Pool, order_id: UUID) -> OrderState | None:
    rows = await _fetch(pool, "orders", ONE_ORDER, order_id)
    return ORDERS.state(rows[0]) if rows else None


async def fetch_fills(
    pool: asyncpg.Pool, bot_id: UUID | None, symbol: str | None, *, before: UUID | None, limit: int
) -> list[FillRow]:
    """Up to `limit` fills with ids below `before`, newest first (fill ids are UUIDv7)."""
    rows = await _fetch(pool, "fills", LIST_FILLS, bot_id, symbol, before, limit)
    return [FILLS.state(r) for r in rows]


async def fetch_positions(pool: asyncpg.Pool, bot_id: UUID | None) -> list[PositionState]:
    return [POSITIONS.state(r) for r in await _fetch(pool, "positions", LIST_POSITIONS, bot_id)]


async def fetch_latch(pool: asyncpg.Pool, latch_id: str) -> LatchState:
    """The latch as the risk_state projection has it (open, version 0, before any event)."""
    rows = await _fetch(pool, "risk_state", ONE_LATCH, latch_id)
    return LATCHES.state(rows[0]) if rows else open_latch(latch_id)


@dataclass(frozen=True)
class Mark:
    """The last 1m close of a symbol and when that kline closed."""

    price: float
    close_ms: int


async def fetch_marks(
    pool: asyncpg.Pool, keys: Iterable[tuple[Market, str]]
) -> dict[tuple[Market, str], Mark]:
    """The mark of each (market, symbol) that has klines (one indexed lookup each: the few symbols traded)."""
    marks = {}
    for market, symbol in set(keys):
        row = await pool.fetchrow(LAST_CLOSE, market.value, symbol)
        if row is not None:
            marks[(market, symbol)] = Mark(float(row["close"]), int(row["close_time_ms"]))
    return marks


async def fetch_klines(
    pool: asyncpg.Pool, market: Market, symbol: str, tf: Timeframe, *, after: int | None, limit: int
) -> list[asyncpg.Record]:
    """Klines oldest first: the newest `limit`, or with `after` the first `limit` opened after it."""
    if after is None:
        return list(reversed(await pool.fetch(NEWEST_KLINES, market.value, symbol, tf.value, limit)))
    return list(await pool.fetch(KLINES_AFTER, market.value, symbol, tf.value, limit, after))


async def fetch_bot_configs(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every configured bot (any desired state), oldest first, with its running run, its lease row and its
    newest lifecycle event, if any."""
    return list(await pool.fetch(BOT_CONFIGS))


async def fetch_bot_events(
    pool: asyncpg.Pool, bot_id: UUID, *, before: UUID | None, limit: int
) -> list[asyncpg.Record] | None:
    """A bot's lifecycle events newest first (ids are UUIDv7 of their time); None for an unknown bot."""
    async with pool.acquire() as conn:
        if not await conn.fetchval(BOT_EXISTS, bot_id):
            return None
        return list(await conn.fetch(BOT_EVENTS, bot_id, before, limit))

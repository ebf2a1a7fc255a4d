"""Equity per bot and in total: initial capital plus realized PnL minus fees plus unrealized PnL.

Positions come from the fills through `domain.positions.apply_fill` (a redelivered fill is stale and
skipped); unrealized PnL marks each open position at the last kline close of its symbol and market, or at
its last fill price before any kline arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import asyncpg

from domain.positions import PositionState, apply_fill, unrealized_pnl
from domain.versions import StaleVersion
from schemas.common import Market
from schemas.market import Kline
from schemas.trading import Fill
from stores.fills import EVENTS as FILL_EVENTS

Key = tuple[UUID, str]
MarkKey = tuple[Market, str]

FILL_COLUMNS = FILL_EVENTS.column_list


@dataclass(frozen=True)
class Mark:
    """The price an open position is valued at, and the time it is from."""

    price: Decimal
    ts_ms: int


class EquityBook:
    """Positions and marks of every bot; equity is computed on demand."""

    def __init__(self, initial_capital: Decimal) -> None:
        self.initial_capital = initial_capital
        self.positions: dict[Key, PositionState] = {}
        self.marks: dict[MarkKey, Mark] = {}

    def apply(self, fill: Fill) -> bool:
        """Fold `fill` into its position; False when it was already applied (a redelivery).

        A fill ahead of a gap raises `VersionGap` (its predecessor has not been seen).
        """
        key = (fill.bot_id, fill.symbol)
        try:
            self.positions[key] = apply_fill(self.positions.get(key), fill)
        except StaleVersion:
            return False
        mark_key = (fill.market, fill.symbol)
        known = self.marks.get(mark_key)
        if known is None or known.ts_ms <= fill.ts_ms:
            self.marks[mark_key] = Mark(Decimal(str(fill.price)), fill.ts_ms)
        return True

    def mark(self, kline: Kline) -> bool:
        """Take the kline's close as its symbol's mark unless a newer mark is known; True if it moved."""
        key = (kline.market, kline.symbol)
        known = self.marks.get(key)
        if known is not None and known.ts_ms > kline.close_time_ms:
            return False
        mark = Mark(Decimal(str(kline.close)), kline.close_time_ms)
        self.marks[key] = mark
        return known != mark

    def version_of(self, bot_id: UUID, symbol: str) -> int:
        """The last fill version applied for this bot and symbol (0 for none)."""
        state = self.positions.get((bot_id, symbol))
        return state.version if state else 0

    def pnl(self, position: PositionState) -> Decimal:
        """Realized PnL minus fees plus unrealized PnL at the mark, in the quote asset."""
        mark = self.marks.get((position.market, position.symbol))
        price = mark.price if mark else position.avg_entry_price
        return position.realized_pnl - position.fees + unrealized_pnl(position, price)

    def per_bot(self) -> dict[UUID, Decimal]:
        """Each bot's PnL over all its symbols (its share of the equity above the initial capital)."""
        out: dict[UUID, Decimal] = {}
        for (bot_id, _), position in self.positions.items():
            out[bot_id] = out.get(bot_id, Decimal(0)) + self.pnl(position)
        return out

    def total(self) -> Decimal:
        """The account's equity: initial capital plus every bot's PnL."""
        return self.initial_capital + sum((self.pnl(p) for p in self.positions.values()), Decimal(0))


async def stored_fills(conn: asyncpg.Connection | asyncpg.Pool) -> list[Fill]:
    """Every fill in the executor's write-side `trading.fill_events`, oldest first (a restart's history)."""
    rows = await conn.fetch(
        f"SELECT {FILL_COLUMNS} FROM trading.fill_events ORDER BY ts_ms, bot_id, symbol, version"
    )
    return [Fill(**dict(r)) for r in rows]


async def fills_after(
    conn: asyncpg.Connection | asyncpg.Pool, bot_id: UUID, symbol: str, version: int
) -> list[Fill]:
    """The stored fills of one bot and symbol after `version`, in version order (to fill a gap)."""
    rows = await conn.fetch(
        f"SELECT {FILL_COLUMNS} FROM trading.fill_events WHERE bot_id = $1 AND symbol = $2 AND version > $3"
        " ORDER BY version",
        bot_id,
        symbol,
        version,
    )
    return [Fill(**dict(r)) for r in rows]

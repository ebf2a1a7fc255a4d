"""A bot's equity curve and performance over its fills, all symbols together: a pure fold.

- Equity is `BASE_CAPITAL` plus the bot's realized PnL minus fees over every symbol (the quote asset).
  Unrealized PnL is not in it: marks are not on the fills stream, and a rebuild must equal the live fold.
- A closing fill (one that reduces a position) adds an equity point and updates the snapshot: peak
  equity (from `BASE_CAPITAL`), drawdown = (peak - equity) / peak, and its maximum so far.
- A closed roundtrip (`domain.roundtrips`) counts to trips and, when its net PnL is positive, to wins;
  its return is net PnL / `BASE_CAPITAL`. Sharpe is mean / sample standard deviation of those returns
  per roundtrip (not annualized), null below two roundtrips or with no spread.
- Ratios are quantized like positions (1e-8, half to even).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID

from domain.positions import ZERO, quantize
from domain.roundtrips import Roundtrip, TripBook, apply_trip, closed_qty
from schemas.trading import Fill

BASE_CAPITAL = Decimal(10000)
"""The equity a bot starts from (the risk service's default initial capital)."""


@dataclass(frozen=True)
class EquityPoint:
    """The bot's equity right after a closing fill; `point` counts from 1 per bot."""

    bot_id: UUID
    point: int
    ts_ms: int
    symbol: str
    version: int
    fill_id: UUID
    net_pnl: Decimal
    equity: Decimal
    peak_equity: Decimal
    drawdown: Decimal


@dataclass(frozen=True)
class Performance:
    """A bot's performance as of its last closing fill, with the running sums it folds on."""

    bot_id: UUID
    trips: int
    wins: int
    win_rate: Decimal | None
    net_pnl: Decimal
    total_return: Decimal
    equity: Decimal
    peak_equity: Decimal
    max_drawdown: Decimal
    sharpe: Decimal | None
    sum_returns: Decimal
    sum_squares: Decimal
    points: int
    updated_ms: int


def start(bot_id: UUID) -> Performance:
    """Before any closing fill: equity at `BASE_CAPITAL`, nothing traded."""
    return Performance(
        bot_id, 0, 0, None, ZERO, ZERO, BASE_CAPITAL, BASE_CAPITAL, ZERO, None, ZERO, ZERO, 0, 0
    )


@dataclass(frozen=True)
class Ledger:
    """One bot: the book of each symbol it traded and its performance (None before a closing fill)."""

    bot_id: UUID
    books: Mapping[str, TripBook]
    performance: Performance | None = None

    def version_of(self, symbol: str) -> int:
        """The last fill version folded for `symbol` (0 for none)."""
        book = self.books.get(symbol)
        return book.version if book else 0


def sharpe(trips: int, sum_returns: Decimal, sum_squares: Decimal) -> Decimal | None:
    """Mean over sample standard deviation of per-roundtrip returns, from their sums."""
    if trips < 2:
        return None
    mean = sum_returns / trips
    variance = (sum_squares - trips * mean * mean) / (trips - 1)
    if variance <= 0:
        return None
    return quantize(mean / variance.sqrt())


def apply_ledger(ledger: Ledger | None, fill: Fill) -> tuple[Ledger, EquityPoint | None]:
    """The ledger after `fill`, and the equity point it added (a closing fill) or None."""
    ledger = ledger or Ledger(fill.bot_id, {})
    book = ledger.books.get(fill.symbol)
    after, trip = apply_trip(book, fill)
    books = {**ledger.books, fill.symbol: after}
    if book is None or closed_qty(book.qty, after.qty) == 0:
        return Ledger(ledger.bot_id, books, ledger.performance), None
    performance = _closed(ledger.performance or start(ledger.bot_id), books, trip, fill)
    point = EquityPoint(
        bot_id=ledger.bot_id,
        point=performance.points,
        ts_ms=fill.ts_ms,
        symbol=fill.symbol,
        version=fill.version,
        fill_id=fill.fill_id,
        net_pnl=performance.net_pnl,
        equity=performance.equity,
        peak_equity=performance.peak_equity,
        drawdown=quantize((performance.peak_equity - performance.equity) / performance.peak_equity),
    )
    return Ledger(ledger.bot_id, books, performance), point


def _closed(
    before: Performance, books: Mapping[str, TripBook], trip: Roundtrip | None, fill: Fill
) -> Performance:
    """The performance after a closing fill, which may also have closed `trip`."""
    net = sum((b.net for b in books.values()), ZERO)
    equity = BASE_CAPITAL + net
    peak = max(before.peak_equity, equity)
    drawdown = quantize((peak - equity) / peak)
    p = replace(
        before,
        net_pnl=net,
        total_return=quantize(net / BASE_CAPITAL),
        equity=equity,
        peak_equity=peak,
        max_drawdown=max(before.max_drawdown, drawdown),
        points=before.points + 1,
        updated_ms=fill.ts_ms,
    )
    if trip is None:
        return p
    r = trip.net_pnl / BASE_CAPITAL
    trips, wins = p.trips + 1, p.wins + (1 if trip.net_pnl > 0 else 0)
    sums, squares = p.sum_returns + r, p.sum_squares + r * r
    return replace(
        p,
        trips=trips,
        wins=wins,
        win_rate=quantize(Decimal(wins) / trips),
        sum_returns=sums,
        sum_squares=squares,
        sharpe=sharpe(trips, sums, squares),
    )

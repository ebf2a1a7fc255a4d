"""Roundtrips per (bot_id, symbol): entry-exit pairs read off the average-cost position, a pure fold.

- A roundtrip opens when the position leaves zero and closes when it returns to zero; a fill that flips
  the position through zero closes the roundtrip and opens the next one (the other side) with the rest.
- pnl and fees are the position's realized PnL and fees gained while the roundtrip was open (differences
  of `domain.positions` values, so they add up exactly to the position's); the fee of a flipping fill
  goes to the roundtrip it closes. net_pnl = pnl - fees.
- entry_price is the position's average entry just before the closing fill; exit_price is the average
  price of the reducing fills weighted by the quantity each closed; qty is the total quantity closed.
- The book (`TripBook`) is the position plus the open roundtrip's running sums; it is what a projection
  stores to fold on, and all of it is Decimal or int, so a stored book folds on exactly like a live one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.positions import ZERO, PositionState, apply_fill, flat_position, quantize
from schemas.common import Market
from schemas.trading import Fill


class TripSide(StrEnum):
    LONG = "long"
    SHORT = "short"


@dataclass(frozen=True)
class Roundtrip:
    """One closed roundtrip of a bot in a symbol; `number` counts from 1 per (bot, symbol)."""

    bot_id: UUID
    symbol: str
    number: int
    market: Market
    side: TripSide
    entry_price: Decimal
    exit_price: Decimal
    qty: Decimal
    pnl: Decimal
    fees: Decimal
    net_pnl: Decimal
    opened_ms: int
    closed_ms: int
    close_version: int


@dataclass(frozen=True)
class TripBook:
    """The position (bot, symbol) and its open roundtrip: side, when it opened, the realized PnL and
    fees the position had before it, and the quantity and notional its reducing fills closed."""

    bot_id: UUID
    symbol: str
    market: Market
    qty: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal
    fees: Decimal
    version: int
    updated_ms: int
    trips: int
    trip_side: TripSide | None
    trip_opened_ms: int | None
    trip_base_pnl: Decimal
    trip_base_fees: Decimal
    trip_closed_qty: Decimal
    trip_exit_notional: Decimal

    def position(self) -> PositionState:
        return PositionState(
            self.bot_id,
            self.symbol,
            self.market,
            self.qty,
            self.avg_entry_price,
            self.realized_pnl,
            self.fees,
            self.version,
            self.updated_ms,
        )

    @property
    def net(self) -> Decimal:
        """Realized PnL minus fees of the position so far."""
        return self.realized_pnl - self.fees


def empty_book(bot_id: UUID, symbol: str, market: Market) -> TripBook:
    """The book before any fill: flat, no roundtrip, version 0."""
    return book_of(flat_position(bot_id, symbol, market), 0, None)


def book_of(
    position: PositionState, trips: int, side: TripSide | None, opened_ms: int | None = None
) -> TripBook:
    """A book at `position` whose open roundtrip (if `side`) starts now, from the position's totals."""
    p = position
    return TripBook(
        p.bot_id,
        p.symbol,
        p.market,
        p.qty,
        p.avg_entry_price,
        p.realized_pnl,
        p.fees,
        p.version,
        p.updated_ms,
        trips,
        side,
        opened_ms,
        p.realized_pnl,
        p.fees,
        ZERO,
        ZERO,
    )


def _side(qty: Decimal) -> TripSide:
    return TripSide.LONG if qty > 0 else TripSide.SHORT


def closed_qty(before: Decimal, after: Decimal) -> Decimal:
    """How much of the position `before` a move to `after` closed (0 when it grew)."""
    if before == 0:
        return ZERO
    if after == 0 or (after > 0) != (before > 0):
        return abs(before)
    return max(ZERO, abs(before) - abs(after))


def apply_trip(book: TripBook | None, fill: Fill) -> tuple[TripBook, Roundtrip | None]:
    """The book after `fill`, and the roundtrip it closed (if any); versions as `apply_fill` checks them."""
    book = book or empty_book(fill.bot_id, fill.symbol, fill.market)
    before = book.position()
    after = apply_fill(before, fill)
    price = Decimal(str(fill.price))
    if before.qty == 0:  # opens a roundtrip from the totals before this fill (its fee counts to it)
        return _moved(book_of(before, book.trips, _side(after.qty), fill.ts_ms), after), None
    closing = closed_qty(before.qty, after.qty)
    notional = book.trip_exit_notional + closing * price
    total = book.trip_closed_qty + closing
    if after.qty != 0 and (after.qty > 0) == (before.qty > 0):  # grew, or closed part of it
        return replace(_moved(book, after), trip_closed_qty=total, trip_exit_notional=notional), None
    assert book.trip_side is not None
    assert book.trip_opened_ms is not None
    pnl = after.realized_pnl - book.trip_base_pnl
    fees = after.fees - book.trip_base_fees
    trip = Roundtrip(
        bot_id=book.bot_id,
        symbol=book.symbol,
        number=book.trips + 1,
        market=book.market,
        side=book.trip_side,
        entry_price=before.avg_entry_price,
        exit_price=quantize(notional / total),
        qty=total,
        pnl=pnl,
        fees=fees,
        net_pnl=pnl - fees,
        opened_ms=book.trip_opened_ms,
        closed_ms=fill.ts_ms,
        close_version=fill.version,
    )
    side = _side(after.qty) if after.qty != 0 else None
    return book_of(after, book.trips + 1, side, fill.ts_ms if side else None), trip


def _moved(book: TripBook, after: PositionState) -> TripBook:
    """`book` with its position replaced by `after` (the open roundtrip's sums unchanged)."""
    return replace(
        book,
        qty=after.qty,
        avg_entry_price=after.avg_entry_price,
        realized_pnl=after.realized_pnl,
        fees=after.fees,
        version=after.version,
        updated_ms=after.updated_ms,
    )

"""Positions per (bot_id, symbol): a pure average-cost reducer over `Fill` payloads.

- qty is signed (+ long, - short). A fill on the position's side re-averages the entry price; a fill against
  it realizes (price - entry) x closed qty x sign(position); closing exactly leaves qty 0 and avg 0; a fill
  larger than the position flips it through zero, opening the remainder at the fill price.
- realized_pnl is in the quote asset, gross of fees; fees are the quote-asset equivalent of all fees.
- Fee in the quote asset: added to `fees`. Fee in the base asset: it changes the quantity that moves, and
  fee x price is added to `fees`. A buy receives qty - fee; a sell gives up qty + fee (the exchange takes
  the fee from the base balance on top of the quantity sold). Either way that quantity goes through the
  average-cost rules above at the fill price. Any other fee asset is refused (unless the fee is zero).
- Prices arrive as floats and become Decimal via str(). Rounding: after each fill, qty, avg_entry_price,
  realized_pnl and fees are quantized to `QUANTUM` (1e-8) with ROUND_HALF_EVEN.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from uuid import UUID

from domain.symbols import split_symbol
from domain.versions import check_next
from schemas.common import Market, Side
from schemas.trading import Fill

QUANTUM = Decimal("1e-8")
ZERO = Decimal(0)


class BadFill(ValueError):
    """A fill the position cannot take: another position's fill, an unknown fee asset, a bad quantity."""


@dataclass(frozen=True)
class PositionState:
    """One bot's position in one symbol after its fills so far."""

    bot_id: UUID
    symbol: str
    market: Market
    qty: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal
    fees: Decimal
    version: int
    updated_ms: int


def quantize(value: Decimal) -> Decimal:
    """The module's one rounding rule: 1e-8, half to even."""
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def flat_position(bot_id: UUID, symbol: str, market: Market) -> PositionState:
    """A position with no fills: version 0."""
    return PositionState(bot_id, symbol, market, ZERO, ZERO, ZERO, ZERO, 0, 0)


def unrealized_pnl(position: PositionState, mark: Decimal) -> Decimal:
    """What closing the position at `mark` would realize (quote asset, gross, not quantized)."""
    return position.qty * (mark - position.avg_entry_price) if position.qty else ZERO


def position_delta(fill: Fill, price: Decimal) -> tuple[Decimal, Decimal]:
    """(signed quantity the position moves by, fee in quote currency) for one fill."""
    name = f"fill {fill.fill_id}"
    if fill.qty <= 0:
        raise BadFill(f"{name}: qty must be positive, got {fill.qty}")
    base, quote = split_symbol(fill.symbol)
    moved = fill.qty
    if fill.fee == 0 or fill.fee_asset == quote:
        fee_quote = fill.fee
    elif fill.fee_asset == base:
        moved = fill.qty - fill.fee if fill.side is Side.BUY else fill.qty + fill.fee
        fee_quote = fill.fee * price
        if moved <= 0:
            raise BadFill(f"{name}: a base fee of {fill.fee} leaves nothing of qty {fill.qty}")
    else:
        raise BadFill(f"{name}: fee asset {fill.fee_asset!r} is neither {base} nor {quote} of {fill.symbol}")
    return (moved if fill.side is Side.BUY else -moved), fee_quote


def apply_fill(state: PositionState | None, fill: Fill) -> PositionState:
    """The position after `fill`; refuses stale or gapped versions and fills it cannot account for."""
    if state is None:
        state = flat_position(fill.bot_id, fill.symbol, fill.market)
    name = f"position {state.bot_id}/{state.symbol}"
    if (fill.bot_id, fill.symbol) != (state.bot_id, state.symbol):
        raise BadFill(f"{name}: fill {fill.fill_id} is for {fill.bot_id}/{fill.symbol}")
    check_next(name, state.version, fill.version)
    if fill.market is not state.market:
        raise BadFill(
            f"{name}: fill {fill.fill_id} is {fill.market.value}, the position is {state.market.value}"
        )
    price = Decimal(str(fill.price))
    delta, fee_quote = position_delta(fill, price)
    qty, avg, realized = state.qty, state.avg_entry_price, state.realized_pnl
    if qty == 0 or (qty > 0) == (delta > 0):
        avg = (abs(qty) * avg + abs(delta) * price) / (abs(qty) + abs(delta))
        qty += delta
    else:
        closed = min(abs(qty), abs(delta))
        realized += (price - avg) * closed * (1 if qty > 0 else -1)
        remainder = qty + delta
        if remainder == 0:
            avg = ZERO
        elif (remainder > 0) != (qty > 0):
            avg = price
        qty = remainder
    qty = quantize(qty)
    return PositionState(
        bot_id=state.bot_id,
        symbol=state.symbol,
        market=state.market,
        qty=qty,
        avg_entry_price=quantize(ZERO if qty == 0 else avg),
        realized_pnl=quantize(realized),
        fees=quantize(state.fees + fee_quote),
        version=fill.version,
        updated_ms=fill.ts_ms,
    )

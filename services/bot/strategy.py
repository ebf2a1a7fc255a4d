"""SMA crossover: a pure, deterministic fold of closes into a long/flat signal.

A golden cross (the fast mean rises above the slow one) says buy, a death cross says sell. The policy is
long/flat: a buy only while flat, a sell only while long, where "long" means the last signal acted on was
a buy. Means are compared exactly (Decimal of the close's shortest repr), so the same closes give the
same signals on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from schemas.common import Side

NAME = "sma_cross"


class ParamsError(ValueError):
    """A bot's params cannot run this strategy; str() is one line saying why."""


@dataclass(frozen=True)
class SmaParams:
    """Window lengths in candles (fast < slow) and the order quantity of each signal."""

    fast: int
    slow: int
    qty: Decimal

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> SmaParams:
        fast, slow, qty = raw.get("fast"), raw.get("slow"), raw.get("qty")
        if not isinstance(fast, int) or not isinstance(slow, int) or isinstance(fast, bool):
            raise ParamsError(f"fast and slow must be integers, got fast={fast!r} slow={slow!r}")
        if not 1 <= fast < slow:
            raise ParamsError(f"need 1 <= fast < slow, got fast={fast} slow={slow}")
        try:
            amount = Decimal(str(qty))
        except ArithmeticError:
            raise ParamsError(f"qty must be a decimal number, got {qty!r}") from None
        if qty is None or isinstance(qty, bool) or not amount.is_finite() or amount <= 0:
            raise ParamsError(f"qty must be a positive decimal, got {qty!r}")
        return cls(fast, slow, amount)


@dataclass(frozen=True)
class SmaState:
    """The last `slow` closes (oldest first), whether the fast mean was above the slow one at the last
    full window (None before one), the last signal acted on, and how many signals were suppressed."""

    closes: tuple[float, ...] = ()
    fast_above: bool | None = None
    last_signal: Side | None = None
    suppressed: int = 0
    last_suppressed: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "closes": list(self.closes),
            "fast_above": self.fast_above,
            "last_signal": None if self.last_signal is None else self.last_signal.value,
            "suppressed": self.suppressed,
            "last_suppressed": self.last_suppressed,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SmaState:
        last = raw.get("last_signal")
        return cls(
            closes=tuple(float(c) for c in raw.get("closes", ())),
            fast_above=raw.get("fast_above"),
            last_signal=None if last is None else Side(last),
            suppressed=int(raw.get("suppressed", 0)),
            last_suppressed=raw.get("last_suppressed"),
        )


def _relation(closes: tuple[float, ...], fast: int, slow: int) -> bool | None:
    """True if the fast mean is above the slow mean, False if below, None if equal."""
    exact = [Decimal(repr(c)) for c in closes]
    # fast_sum / fast > slow_sum / slow, without a rounding division.
    left = sum(exact[-fast:], Decimal(0)) * slow
    right = sum(exact, Decimal(0)) * fast
    return None if left == right else left > right


def fold(params: SmaParams, state: SmaState, close: float) -> tuple[SmaState, Side | None]:
    """Add one closed candle's close; return the new state and the signal to act on, if any."""
    closes = (*state.closes, close)[-params.slow :]
    if len(closes) < params.slow:
        return replace(state, closes=closes), None
    relation = _relation(closes, params.fast, params.slow)
    above = state.fast_above if relation is None else relation
    signal: Side | None = None
    if state.fast_above is False and above is True and state.last_signal is not Side.BUY:
        signal = Side.BUY
    elif state.fast_above is True and above is False and state.last_signal is Side.BUY:
        signal = Side.SELL
    last = signal if signal is not None else state.last_signal
    return replace(state, closes=closes, fast_above=above, last_signal=last), signal


def warm(params: SmaParams, closes: list[float]) -> SmaState:
    """The state after past closes (oldest first): windows and crossing filled, no signal acted on."""
    state = SmaState()
    for close in closes:
        state, _ = fold(params, state, close)
    return replace(state, last_signal=None)


def suppress(before: SmaState, after: SmaState, signal: Side, why: str) -> SmaState:
    """`after` with `signal` not acted on: the position stays as it was, the suppression is counted."""
    return replace(
        after,
        last_signal=before.last_signal,
        suppressed=after.suppressed + 1,
        last_suppressed=f"{signal.value}: {why}",
    )

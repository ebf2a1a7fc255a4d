"""The breach every breaker reports, and the drawdown and connectivity breakers as pure functions.

Drawdown: equity more than `threshold` (a fraction) below its peak within the window -> breach.
Connectivity: no kline for `window_ms` by the injected clock -> breach. Correlation, VPIN and macro have
a module each (services/risk/correlation.py, vpin.py, macro.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from schemas.risk import Breaker

EVALUATED: tuple[Breaker, ...] = (
    Breaker.DRAWDOWN,
    Breaker.CONNECTIVITY,
    Breaker.CORRELATION,
    Breaker.VPIN,
    Breaker.MACRO,
)
"""The breakers with an evaluation (all five; `manual` is the operator's, never evaluated)."""


@dataclass(frozen=True)
class Breach:
    """A breaker's condition holds: what to record in the trip event."""

    breaker: Breaker
    value: float
    threshold: float
    message: str


@dataclass(frozen=True)
class Reading:
    """One stored value of a series (a VPIN, a DXY close) at its time."""

    ts_ms: int
    value: float


class PeakWindow:
    """The running peak of equity over the last `window_ms` (a monotonic deque of (ts_ms, equity)).

    Samples must come in non-decreasing time; an older timestamp is taken as the newest one seen.
    """

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self._samples: deque[tuple[int, Decimal]] = deque()
        self._last_ms = 0

    def add(self, ts_ms: int, equity: Decimal) -> None:
        """Record `equity` at `ts_ms`."""
        ts_ms = max(ts_ms, self._last_ms)
        self._last_ms = ts_ms
        while self._samples and self._samples[-1][1] <= equity:
            self._samples.pop()
        self._samples.append((ts_ms, equity))

    def peak(self) -> Decimal | None:
        """The highest equity within the window ending at the newest sample; None with no sample."""
        start = self._last_ms - self.window_ms
        while self._samples and self._samples[0][0] < start:
            self._samples.popleft()
        return self._samples[0][1] if self._samples else None

    def restart(self, ts_ms: int, equity: Decimal) -> None:
        """Forget every sample: the peak starts again at `equity` (after a resume)."""
        self._samples.clear()
        self._last_ms = max(ts_ms, self._last_ms)
        self._samples.append((self._last_ms, equity))


def drawdown(equity: Decimal, peak: Decimal) -> float:
    """The fraction of `peak` that `equity` has lost (0 at or above the peak)."""
    if peak <= 0:
        return 0.0
    return float(max(peak - equity, Decimal(0)) / peak)


def check_drawdown(equity: Decimal, peak: Decimal | None, threshold: float) -> Breach | None:
    """A drawdown breach when equity is more than `threshold` below `peak`."""
    if peak is None:
        return None
    lost = drawdown(equity, peak)
    if lost <= threshold:
        return None
    message = f"equity {equity:.2f} is {lost:.2%} below its peak {peak:.2f} (limit {threshold:.2%})"
    return Breach(Breaker.DRAWDOWN, lost, threshold, message)


def check_staleness(last_kline_ms: int, now_ms: int, window_ms: int) -> Breach | None:
    """A connectivity breach when no kline arrived for more than `window_ms` up to `now_ms`."""
    age = now_ms - last_kline_ms
    if age <= window_ms:
        return None
    message = f"no kline for {age} ms (limit {window_ms} ms)"
    return Breach(Breaker.CONNECTIVITY, float(age), float(window_ms), message)

"""The correlation breaker: the average pairwise correlation of the traded symbols' 1m returns.

Closes come from the closed klines the risk service already consumes; each symbol keeps the closes of the
last `window_ms` by kline time (not by the clock: a replayed or late series correlates the same). A return
is one close over the previous stored close of the same symbol; two symbols are compared on the close
times both have a return at. When the bots' symbols all move as one, their exposure is one position.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

from schemas.common import Market
from schemas.risk import Breaker
from services.risk.breakers import Breach

SeriesKey = tuple[Market, str]

MIN_RETURNS = 30
"""Fewer common returns than this make no correlation of a pair: two independent series of a few points
correlate strongly by chance (30 keep a 0.9 by chance out of reach), two points always fully."""


class CloseWindows:
    """Per symbol, the (close_time_ms, close) of the last `window_ms` of klines, oldest first."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self.closes: dict[SeriesKey, deque[tuple[int, float]]] = {}
        self._newest_ms = 0
        self.version = 0
        """Moves on every accepted close: a cached correlation is stale when it differs."""

    def add(self, key: SeriesKey, close_time_ms: int, close: float) -> bool:
        """Record a close; False for a close at or before the symbol's newest (a redelivery or late one)."""
        series = self.closes.setdefault(key, deque())
        if series and series[-1][0] >= close_time_ms:
            return False
        series.append((close_time_ms, close))
        self._newest_ms = max(self._newest_ms, close_time_ms)
        self.prune()
        self.version += 1
        return True

    def prune(self) -> None:
        """Drop closes older than the window before the newest close of any symbol."""
        start = self._newest_ms - self.window_ms
        for series in self.closes.values():
            while series and series[0][0] < start:
                series.popleft()

    def resize(self, window_ms: int) -> None:
        """Take a new window from risk_config (a longer one fills as klines arrive)."""
        if window_ms != self.window_ms:
            self.window_ms = window_ms
            self.prune()
            self.version += 1

    def returns(self, key: SeriesKey) -> dict[int, float]:
        """The symbol's returns by the close time they end at."""
        series = self.closes.get(key, ())
        out: dict[int, float] = {}
        previous: tuple[int, float] | None = None
        for ts_ms, close in series:
            if previous is not None and previous[1] > 0:
                out[ts_ms] = close / previous[1] - 1.0
            previous = (ts_ms, close)
        return out


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The Pearson correlation of two equally long samples; None when either does not vary."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def average_correlation(returns: Mapping[SeriesKey, Mapping[int, float]]) -> tuple[float, int] | None:
    """The mean correlation over every pair with at least MIN_RETURNS common returns, and how many
    pairs that is; None when no pair has."""
    values: list[float] = []
    for a, b in combinations(sorted(returns), 2):
        common = sorted(returns[a].keys() & returns[b].keys())
        if len(common) < MIN_RETURNS:
            continue
        r = pearson([returns[a][t] for t in common], [returns[b][t] for t in common])
        if r is not None:
            values.append(r)
    if not values:
        return None
    return sum(values) / len(values), len(values)


def check_correlation(windows: CloseWindows, symbols: Iterable[SeriesKey], threshold: float) -> Breach | None:
    """A correlation breach when the traded symbols' average pairwise correlation exceeds `threshold`."""
    keys = sorted(set(symbols))
    found = average_correlation({k: windows.returns(k) for k in keys})
    if found is None:
        return None
    value, pairs = found
    if value <= threshold:
        return None
    names = ", ".join(symbol for _, symbol in keys)
    message = f"average correlation {value:.3f} over {pairs} pair(s) of {names} (limit {threshold:g})"
    return Breach(Breaker.CORRELATION, value, threshold, message)

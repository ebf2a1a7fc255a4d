"""The long/short account ratio of a symbol every 5 minutes: a mean-reverting walk of its logarithm."""

from __future__ import annotations

import math

from services.data.generators.seeded import clamp, rng

PERIOD_MS = 300_000
REVERSION = 0.05
STEP_SIGMA = 0.03


def long_short_ratio(previous: float | None, *, seed: int, symbol: str, ts_ms: int) -> float:
    """The ratio at `ts_ms` given the one before (None: the series starts here)."""
    r = rng(seed, "long_short", symbol, ts_ms)
    if previous is None:
        return round(math.exp(r.gauss(0.1, 0.2)), 6)
    x = math.log(previous)
    x += -REVERSION * x + r.gauss(0.0, STEP_SIGMA)
    return round(math.exp(clamp(x, -1.5, 1.5)), 6)

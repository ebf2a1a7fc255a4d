"""Hourly macro series: DXY a lognormal walk near 104, VIX a mean-reverting walk near 18 (floored at
9); a scenario's shock jumps either at its hour and the walks carry on from there."""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.data.generators.scenario import CALM, Scenario
from services.data.generators.seeded import HOUR_MS, rng

PERIOD_MS = HOUR_MS
SERIES: tuple[str, ...] = ("dxy", "vix")
START = {"dxy": 104.0, "vix": 18.0}
DXY_SIGMA = 0.0008
VIX_MEAN, VIX_REVERSION, VIX_SIGMA, VIX_FLOOR = 18.0, 0.05, 0.4, 9.0


@dataclass(frozen=True)
class MacroPoint:
    """One row of `market_data.macro_data`."""

    series: str
    ts_ms: int
    value: float


def macro_at(
    series: str, previous: float | None, *, seed: int, ts_ms: int, scenario: Scenario = CALM
) -> MacroPoint:
    """`series` at `ts_ms` given its previous value (None: start at its usual level)."""
    if series not in SERIES:
        raise ValueError(f"unknown macro series {series!r} (known: {', '.join(SERIES)})")
    r = rng(seed, "macro", series, ts_ms)
    last = START[series] if previous is None else previous
    shock = scenario.shock_at(ts_ms)
    if series == "dxy":
        value = last * math.exp(r.gauss(0.0, DXY_SIGMA))
        if shock is not None:
            value *= 1 + shock.dxy_pct / 100
    else:
        value = max(VIX_FLOOR, last + VIX_REVERSION * (VIX_MEAN - last) + r.gauss(0.0, VIX_SIGMA))
        if shock is not None:
            value += shock.vix_points
    return MacroPoint(series, ts_ms, round(value, 4))

"""Hourly gamma exposure snapshots: a per-strike dealer GEX profile around the spot price (calls add,
puts subtract), its total, the zero-gamma flip, the call and put walls and the regime."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from services.data.feed import profile_of
from services.data.generators.seeded import HOUR_MS, rng

PERIOD_MS = HOUR_MS
STRIKES_EACH_SIDE = 10
SPREAD = 0.06
"""Open interest concentrates within about this fraction of spot."""


@dataclass(frozen=True)
class StrikeGex:
    """One row of `market_data.gamma_exposure_strikes`."""

    strike: float
    gex: float


@dataclass(frozen=True)
class GexSnapshot:
    """One row of `market_data.gamma_exposure` and its per-strike profile."""

    symbol: str
    ts_ms: int
    total_gex: float
    flip_price: float | None
    call_wall: float
    put_wall: float
    regime: str
    strikes: tuple[StrikeGex, ...]


def strike_step(spot: float) -> float:
    """A round strike spacing near 1 % of spot: 1, 2 or 5 times a power of ten."""
    raw = spot * 0.01
    power = 10.0 ** math.floor(math.log10(raw))
    return next(float(m * power) for m in (1, 2, 5, 10) if m * power >= raw)


def flip_of(strikes: tuple[StrikeGex, ...]) -> float | None:
    """Where the cumulative GEX (summed from the lowest strike) first changes sign, interpolated
    between the two strikes; None when it never does."""
    before = strikes[0].gex if strikes else 0.0
    for low, high in itertools.pairwise(strikes):
        after = before + high.gex
        if before != 0 and (before < 0) != (after < 0):
            return round(low.strike + (high.strike - low.strike) * before / (before - after), 8)
        before = after
    return None


def gex_at(*, seed: int, symbol: str, ts_ms: int, spot: float) -> GexSnapshot:
    """The snapshot of `symbol` at `ts_ms` with spot `spot`."""
    r = rng(seed, "gex", symbol, ts_ms)
    step = strike_step(spot)
    centre = round(spot / step) * step
    scale = spot * profile_of(symbol).volume * 100
    put_bias = r.uniform(0.6, 1.5)
    profile = []
    for k in range(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1):
        strike = round(centre + k * step, 8)
        if strike <= 0:
            continue
        distance = (strike - spot) / (spot * SPREAD)
        weight = math.exp(-(distance**2))
        calls = weight * r.lognormvariate(0.0, 0.5) * (1.3 if strike >= spot else 0.7)
        puts = weight * r.lognormvariate(0.0, 0.5) * (1.3 if strike <= spot else 0.7) * put_bias
        profile.append(StrikeGex(strike, round(scale * (calls - puts), 4)))
    strikes = tuple(profile)
    total = round(sum(s.gex for s in strikes), 4)
    return GexSnapshot(
        symbol=symbol,
        ts_ms=ts_ms,
        total_gex=total,
        flip_price=flip_of(strikes),
        call_wall=max(strikes, key=lambda s: s.gex).strike,
        put_wall=min(strikes, key=lambda s: s.gex).strike,
        regime="positive" if total >= 0 else "negative",
        strikes=strikes,
    )

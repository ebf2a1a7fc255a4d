"""The perpetual twin of a spot 1m candle: the spot's prices times (1 + basis), and its own volume.

The basis is the perpetual's premium over spot, one value per minute: a few bps that mean-revert minute
by minute around a target that glides over each 8 h funding period from the rate paid at its start to
the rate to be paid at its end, so premium and funding share their sign (on Binance a period's funding
rate is its average premium plus a small interest term). The deviation from the target is an AR(1)
written as the decayed sum of its last MEMORY seeded shocks, so a minute's basis needs no stored row:
a restarted feed writes what an uninterrupted one does. Volume is a seeded multiple of the spot's,
about three times (perpetuals out-trade spot).
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache

from services.data.feed import EIGHT_PLACES, MINUTE_MS, Candle, profile_of, to_tick
from services.data.generators import funding
from services.data.generators.seeded import clamp, rng

PERSISTENCE = 0.9
"""The share of a minute's deviation from the target still there a minute later."""
STEP_SIGMA = 0.00004
"""A minute's shock, 0.4 bp: the deviation's spread is then about 0.9 bp."""
MEMORY = 60
"""Minutes of shocks the basis sums (0.9 ** 60 < 0.2 %: older ones no longer matter)."""
CAP = 0.01
"""A hard bound on the basis, 1 % either way (funding's own cap is 0.75 %)."""
VOLUME_MULTIPLE = 3.0
"""The mean of perp volume over spot volume."""
VOLUME_SIGMA = 0.3


def due_ms(end_ms: int) -> int:
    """The funding time of the period a minute ending at `end_ms` lies in: the first 8 h slot at or
    after it (the minute ending at 08:00 still belongs to the period paid at 08:00)."""
    return -(-end_ms // funding.PERIOD_MS) * funding.PERIOD_MS


def target_at(end_ms: int, *, paid: float | None, due: float) -> float:
    """The premium the basis reverts to at `end_ms`: from `paid` (the rate paid at the period's start;
    None: the base rate) at the start to `due` (the rate paid at its end) at the end, linearly."""
    start = due_ms(end_ms) - funding.PERIOD_MS
    first = funding.BASE_RATE if paid is None else paid
    return first + (due - first) * (end_ms - start) / funding.PERIOD_MS


@lru_cache(maxsize=8192)
def _shock(seed: int, symbol: str, end_ms: int) -> float:
    """The seeded shock of the minute ending at `end_ms` (cached: each is summed MEMORY times)."""
    return rng(seed, "perp_basis", symbol, end_ms).gauss(0.0, STEP_SIGMA)


def basis_at(*, seed: int, symbol: str, end_ms: int, target: float) -> float:
    """The basis of the minute ending at `end_ms`: `target` plus the decayed shocks of the last MEMORY
    minutes, within ±CAP."""
    noise = sum(PERSISTENCE**k * _shock(seed, symbol, end_ms - k * MINUTE_MS) for k in range(MEMORY))
    return clamp(target + noise, -CAP, CAP)


def perp_of(spot: Candle, *, seed: int, target: float) -> Candle:
    """The perpetual candle of `spot`'s symbol and minute, its basis reverting to `target`."""
    factor = 1 + basis_at(seed=seed, symbol=spot.symbol, end_ms=spot.close_time_ms + 1, target=target)
    tick = profile_of(spot.symbol).tick
    open_, high, low, close = (
        to_tick(p * factor, tick) for p in (spot.open, spot.high, spot.low, spot.close)
    )
    r = rng(seed, "perp_volume", spot.symbol, spot.open_time_ms)
    multiple = VOLUME_MULTIPLE * math.exp(r.gauss(-(VOLUME_SIGMA**2) / 2, VOLUME_SIGMA))
    volume = max(EIGHT_PLACES, (spot.volume * Decimal(repr(multiple))).quantize(EIGHT_PLACES))
    average = (open_ + high + low + close) / 4
    return replace(
        spot,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        quote_volume=(volume * Decimal(repr(average))).quantize(EIGHT_PLACES),
        trades=max(1, round(spot.trades * multiple * math.exp(r.gauss(0.0, 0.1)))),
    )

"""Perpetual funding every 8 hours (00:00, 08:00, 16:00 UTC): an AR(1) rate around 0.01 %, clamped
to Binance's ±0.75 %, paid at the mark price (the kline close at that time)."""

from __future__ import annotations

from dataclasses import dataclass

from services.data.generators.seeded import EIGHT_HOURS_MS, clamp, rng

PERIOD_MS = EIGHT_HOURS_MS
BASE_RATE = 0.0001
PERSISTENCE = 0.6
STEP_SIGMA = 0.00008
CAP = 0.0075


@dataclass(frozen=True)
class Funding:
    """One row of `market_data.funding_rates`."""

    symbol: str
    funding_time_ms: int
    rate: float
    mark_price: float


def rate_at(previous: float | None, *, seed: int, symbol: str, ts_ms: int) -> float:
    """The rate paid at `ts_ms` given the previous rate (None: the series starts here); the perpetual
    candles' basis glides toward it before it is paid (`services.data.generators.perp`)."""
    r = rng(seed, "funding", symbol, ts_ms)
    last = BASE_RATE if previous is None else previous
    rate = PERSISTENCE * last + (1 - PERSISTENCE) * BASE_RATE + r.gauss(0.0, STEP_SIGMA)
    return round(clamp(rate, -CAP, CAP), 8)


def funding_at(previous: float | None, *, seed: int, symbol: str, ts_ms: int, mark_price: float) -> Funding:
    """The funding at `ts_ms` given the previous rate (None: the series starts here)."""
    return Funding(symbol, ts_ms, rate_at(previous, seed=seed, symbol=symbol, ts_ms=ts_ms), mark_price)

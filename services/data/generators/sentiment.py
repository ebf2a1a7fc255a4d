"""Daily sentiment at 00:00 UTC: the Fear & Greed index (0..100, AR(1) around 50, classified in
alternative.me's bands) and the stablecoin supply with its supply ratio (SSR = BTC market cap / supply)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.data.generators.seeded import DAY_MS, clamp, rng

PERIOD_MS = DAY_MS
BTC_CIRCULATING = 19_800_000.0
"""SSR's market cap is the lead symbol's price times this (the lead is BTCUSDT by default)."""
START_SUPPLY_USD = 160e9

BANDS: tuple[tuple[int, str], ...] = (
    (24, "extreme_fear"),
    (44, "fear"),
    (55, "neutral"),
    (75, "greed"),
    (100, "extreme_greed"),
)


@dataclass(frozen=True)
class FearGreed:
    """One row of `market_data.fear_greed`."""

    ts_ms: int
    value: int
    classification: str


@dataclass(frozen=True)
class StablecoinSupply:
    """One row of `market_data.stablecoin_supply`."""

    ts_ms: int
    supply_usd: float
    ssr: float


def classify(value: int) -> str:
    """The band of a Fear & Greed value."""
    return next(name for top, name in BANDS if value <= top)


def fear_greed_at(previous: int | None, *, seed: int, ts_ms: int) -> FearGreed:
    """The index at `ts_ms` given the day before (None: the series starts here)."""
    r = rng(seed, "fear_greed", ts_ms)
    last = 50.0 + r.gauss(0.0, 15.0) if previous is None else float(previous)
    value = round(clamp(0.85 * last + 0.15 * 50.0 + r.gauss(0.0, 7.0), 0, 100))
    return FearGreed(ts_ms, value, classify(value))


def stablecoin_supply_at(
    previous: float | None, *, seed: int, ts_ms: int, btc_price: float
) -> StablecoinSupply:
    """Supply and SSR at `ts_ms` given the previous supply (None: start near $160 bn)."""
    r = rng(seed, "stablecoin_supply", ts_ms)
    last = START_SUPPLY_USD if previous is None else previous
    supply = round(last * math.exp(r.gauss(0.0005, 0.003)), 2)
    return StablecoinSupply(ts_ms, supply, round(btc_price * BTC_CIRCULATING / supply, 6))

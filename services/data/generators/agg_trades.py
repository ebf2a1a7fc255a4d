"""Aggregated trades of one 1m candle: its volume split over a path open -> high/low -> close.

The quantities sum to the candle's volume exactly and every price lies within its range. Natural flow
leans with the candle's move and with each step of the path (rising steps are more often taker buys);
a scenario's toxic flow overrides it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from services.data.feed import EIGHT_PLACES, MINUTE_MS, Candle, profile_of
from services.data.generators.scenario import CALM, Scenario
from services.data.generators.seeded import clamp, rng

IDS_PER_MINUTE = 1_000
"""`agg_id` = minute number * 1000 + index: increasing, unique per symbol, stable across restarts."""
MIN_TRADES, MAX_TRADES = 4, 30


@dataclass(frozen=True)
class AggTrade:
    """One row of `market_data.agg_trades`; `buyer_maker` False means the taker bought."""

    symbol: str
    agg_id: int
    ts_ms: int
    price: float
    qty: Decimal
    buyer_maker: bool


def _path(candle: Candle, count: int, high_first: bool) -> list[float]:
    """`count` prices along open -> first extreme -> second extreme -> close."""
    first, second = (candle.high, candle.low) if high_first else (candle.low, candle.high)
    knots = [candle.open, first, second, candle.close]
    prices = []
    for i in range(count):
        x = 3 * i / max(1, count - 1)
        leg = min(2, int(x))
        frac = x - leg
        prices.append(knots[leg] + (knots[leg + 1] - knots[leg]) * frac)
    return prices


def trades_of(candle: Candle, *, seed: int, scenario: Scenario = CALM) -> list[AggTrade]:
    """The aggregated trades of `candle`, in `agg_id` order."""
    r = rng(seed, "agg_trades", candle.symbol, candle.open_time_ms)
    count = int(clamp(candle.trades // 25, MIN_TRADES, MAX_TRADES))
    profile = profile_of(candle.symbol)
    tick = profile.tick
    prices = [
        clamp(round(p / tick) * tick, candle.low, candle.high) for p in _path(candle, count, r.random() < 0.5)
    ]
    weights = [1.0 + r.expovariate(1.0) for _ in range(count)]
    total = sum(weights)
    qtys = [
        (candle.volume * Decimal(repr(w / total))).quantize(EIGHT_PLACES, ROUND_DOWN) for w in weights[:-1]
    ]
    qtys.append(candle.volume - sum(qtys, Decimal(0)))
    offsets = sorted(r.randrange(MINUTE_MS) for _ in range(count))
    forced = scenario.buy_share(candle.symbol, candle.open_time_ms)
    move = math.tanh(math.log(candle.close / candle.open) / profile.volatility)
    trades = []
    for i, (price, qty, offset) in enumerate(zip(prices, qtys, offsets, strict=True)):
        step = price - (prices[i - 1] if i else candle.open)
        lean = 0.5 + 0.25 * move + (0.15 if step > 0 else -0.15 if step < 0 else 0.0)
        taker_buys = r.random() < (lean if forced is None else forced)
        trades.append(
            AggTrade(
                symbol=candle.symbol,
                agg_id=candle.open_time_ms // MINUTE_MS * IDS_PER_MINUTE + i,
                ts_ms=candle.open_time_ms + offset,
                price=round(price, 8),
                qty=qty,
                buyer_maker=not taker_buys,
            )
        )
    return [t for t in trades if t.qty > 0]

"""VPIN (volume-synchronised probability of informed trading) from aggregated trades.

Trades fill equal-volume buckets in order (a trade may straddle two); VPIN is the sum of |buy - sell|
over the last N complete buckets divided by their total volume: 0 for balanced flow, 1 for one-sided.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.data.feed import profile_of
from services.data.generators.agg_trades import AggTrade

BUCKETS = 12
BUCKET_MINUTES = 5
"""A bucket holds about this many minutes of the symbol's usual volume."""
WINDOW_MS = 2 * 3_600_000
"""Trades older than this before the computation time are not bucketed (bounds the work)."""


def bucket_volume(symbol: str) -> float:
    """The bucket size of `symbol`: BUCKET_MINUTES minutes of its profile's volume."""
    return profile_of(symbol).volume * BUCKET_MINUTES


def vpin(trades: Iterable[AggTrade], volume: float, buckets: int = BUCKETS) -> float | None:
    """VPIN over the last `buckets` complete buckets of `volume` each; None until that many are full."""
    done: list[tuple[float, float]] = []
    buy = sell = 0.0
    for trade in trades:
        left = float(trade.qty)
        while left > 0:
            take = min(left, volume - buy - sell)
            if trade.buyer_maker:
                sell += take
            else:
                buy += take
            left -= take
            if buy + sell >= volume * (1 - 1e-12):
                done.append((buy, sell))
                buy = sell = 0.0
    if len(done) < buckets:
        return None
    last = done[-buckets:]
    return min(1.0, sum(abs(b - s) for b, s in last) / sum(b + s for b, s in last))

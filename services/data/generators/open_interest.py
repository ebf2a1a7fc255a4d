"""Hourly open interest of a symbol: a lognormal walk in contracts (base asset) that leans with the
hour's price move, valued in USD at the kline close."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from services.data.feed import profile_of
from services.data.generators.seeded import HOUR_MS, rng

PERIOD_MS = HOUR_MS
STEP_SIGMA = 0.01
THREE_PLACES = Decimal("0.001")


@dataclass(frozen=True)
class OpenInterest:
    """One row of `market_data.open_interest`."""

    symbol: str
    ts_ms: int
    open_interest: Decimal
    open_interest_usd: float


def open_interest_at(
    previous: Decimal | None, *, seed: int, symbol: str, ts_ms: int, price: float, hour_return: float
) -> OpenInterest:
    """The open interest at `ts_ms` given the previous (None: start at about half a day's volume)."""
    r = rng(seed, "open_interest", symbol, ts_ms)
    if previous is None:
        base = profile_of(symbol).volume * 720 * math.exp(r.gauss(0.0, 0.1))
    else:
        base = float(previous) * math.exp(r.gauss(0.0, STEP_SIGMA) + 0.5 * hour_return)
    contracts = Decimal(repr(base)).quantize(THREE_PLACES)
    return OpenInterest(symbol, ts_ms, contracts, round(float(contracts) * price, 2))

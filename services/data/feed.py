"""A seeded random walk of 1m candles per symbol: deterministic for a seed, a symbol and a start time.

Returns follow a GARCH(1,1) variance (calm and busy stretches alternate), each minute is walked in
sub-steps so high and low are the path's extremes, and volume is lognormal and grows with the move.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

MINUTE_MS = 60_000
DEFAULT_SYMBOLS: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT")

SUB_STEPS = 12
GARCH_ALPHA = 0.08
GARCH_BETA = 0.90
EIGHT_PLACES = Decimal("0.00000001")


@dataclass(frozen=True)
class Profile:
    """How one symbol trades: its first price, per-minute volatility, volume and trade size."""

    price: float
    volatility: float
    volume: float
    trade_size: float
    tick: float = 0.01


PROFILES: dict[str, Profile] = {
    "BTCUSDT": Profile(price=60_000.0, volatility=0.0008, volume=12.0, trade_size=0.02),
    "ETHUSDT": Profile(price=3_000.0, volatility=0.0010, volume=180.0, trade_size=0.4),
    "SOLUSDT": Profile(price=150.0, volatility=0.0014, volume=2_500.0, trade_size=6.0),
}


def profile_of(symbol: str) -> Profile:
    """The symbol's profile; an unknown symbol gets one derived from its name (still deterministic)."""
    known = PROFILES.get(symbol)
    if known is not None:
        return known
    rng = random.Random(f"profile:{symbol}")
    price = round(10 ** rng.uniform(0, 3), 2) or 1.0
    return Profile(price=price, volatility=0.0015, volume=10_000.0 / price, trade_size=50.0 / price)


def floor_minute(ms: int) -> int:
    """The open time of the minute holding `ms`."""
    return ms - ms % MINUTE_MS


@dataclass(frozen=True)
class Candle:
    """One closed 1m candle (Binance convention: close time is the last millisecond of the minute)."""

    symbol: str
    open_time_ms: int
    close_time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: Decimal
    quote_volume: Decimal
    trades: int


class Walk:
    """The candles of one symbol from `start_ms` (floored to the minute) on, one per `next()`."""

    def __init__(self, symbol: str, *, seed: int, start_ms: int) -> None:
        self.symbol = symbol
        self.start_ms = floor_minute(start_ms)
        self.profile = profile_of(symbol)
        self._rng = random.Random(f"{seed}:{symbol}:{self.start_ms}")
        self._open_ms = self.start_ms
        self._price = self.profile.price
        self._variance = self.profile.volatility**2
        self._last_return = 0.0
        self._pending: Candle | None = None

    @property
    def next_open_ms(self) -> int:
        """The open time of the candle `next()` returns."""
        return self._open_ms

    def __iter__(self) -> Iterator[Candle]:
        return self

    def peek(self) -> Candle:
        """The candle `next()` returns, without moving on."""
        if self._pending is None:
            self._pending = self._walk()
        return self._pending

    def __next__(self) -> Candle:
        candle = self.peek()
        self._pending = None
        self._open_ms += MINUTE_MS
        return candle

    def _walk(self) -> Candle:
        p = self.profile
        rng = self._rng
        omega = p.volatility**2 * (1 - GARCH_ALPHA - GARCH_BETA)
        self._variance = omega + GARCH_ALPHA * self._last_return**2 + GARCH_BETA * self._variance
        step_sigma = math.sqrt(self._variance / SUB_STEPS)
        log_price = math.log(self._price)
        start = log_price
        high = low = log_price
        for _ in range(SUB_STEPS):
            log_price += rng.gauss(0.0, step_sigma)
            high = max(high, log_price)
            low = min(low, log_price)
        self._last_return = log_price - start

        open_ = self._price
        close = to_tick(math.exp(log_price), p.tick)
        high_price = max(to_tick(math.exp(high), p.tick), open_, close)
        low_price = min(to_tick(math.exp(low), p.tick), open_, close)

        surprise = abs(self._last_return) / p.volatility
        volume = p.volume * math.exp(rng.gauss(-0.125, 0.5)) * (0.6 + 0.4 * surprise)
        average = (open_ + high_price + low_price + close) / 4
        trades = max(1, round(volume / p.trade_size * math.exp(rng.gauss(0.0, 0.2))))
        qty = Decimal(repr(volume)).quantize(EIGHT_PLACES)
        candle = Candle(
            symbol=self.symbol,
            open_time_ms=self._open_ms,
            close_time_ms=self._open_ms + MINUTE_MS - 1,
            open=open_,
            high=high_price,
            low=low_price,
            close=close,
            volume=qty,
            quote_volume=(qty * Decimal(repr(average))).quantize(EIGHT_PLACES),
            trades=trades,
        )
        self._price = close
        return candle

    def skip_to(self, open_ms: int) -> None:
        """Walk on (discarding candles) until the next candle opens at `open_ms` or later."""
        while self._open_ms < open_ms:
            next(self)


def to_tick(price: float, tick: float) -> float:
    """`price` rounded to a multiple of `tick`, at least one tick (rounding keeps prices in order)."""
    return max(tick, round(round(price / tick) * tick, 8))

"""The seeded feed, without servers: determinism for a seed and start, candle invariants, a lognormal
volume and clustered volatility."""

from __future__ import annotations

import statistics
from decimal import Decimal
from itertools import islice, pairwise

import pytest

from schemas.common import Timeframe
from services.data.aggregate import closing
from services.data.feed import MINUTE_MS, Candle, Walk
from services.data.runner import FeedOptions

HOUR = 3_600_000
START = 1_704_067_200_000  # 2024-01-01T00:00Z


def take(symbol: str, n: int, *, seed: int = 7, start: int = START) -> list[Candle]:
    return list(islice(Walk(symbol, seed=seed, start_ms=start), n))


def test_same_seed_and_start_give_the_same_candles() -> None:
    assert take("BTCUSDT", 300) == take("BTCUSDT", 300)
    assert take("BTCUSDT", 50) != take("BTCUSDT", 50, seed=8)
    assert take("BTCUSDT", 50) != take("BTCUSDT", 50, start=START + HOUR)
    assert take("BTCUSDT", 50)[0].close != take("ETHUSDT", 50)[0].close


def test_start_is_floored_to_the_minute_and_skip_to_continues_the_series() -> None:
    assert take("SOLUSDT", 5, start=START + 12_345) == take("SOLUSDT", 5)
    walk = Walk("SOLUSDT", seed=7, start_ms=START)
    assert walk.peek() == walk.peek()
    walk.skip_to(START + 100 * MINUTE_MS)
    assert next(walk) == take("SOLUSDT", 101)[100]


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"])
def test_candles_are_well_formed_and_continuous(symbol: str) -> None:
    candles = take(symbol, 2_000)
    for before, c in pairwise(candles):
        assert c.open == before.close
        assert c.open_time_ms == before.open_time_ms + MINUTE_MS
    for c in candles:
        assert c.close_time_ms == c.open_time_ms + MINUTE_MS - 1
        assert 0 < c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
        assert c.volume > 0
        assert c.quote_volume > 0
        assert c.trades >= 1
        assert c.quote_volume / c.volume >= Decimal(repr(c.low)) * Decimal("0.999999")
        assert c.quote_volume / c.volume <= Decimal(repr(c.high)) * Decimal("1.000001")


def test_volume_is_skewed_and_volatility_clusters() -> None:
    candles = take("BTCUSDT", 5_000)
    volumes = [float(c.volume) for c in candles]
    assert statistics.mean(volumes) > statistics.median(volumes)  # lognormal: a long right tail
    moves = [abs(c.close / c.open - 1) for c in candles]
    # Big moves follow big moves: absolute returns are positively autocorrelated.
    assert statistics.correlation(moves[:-1], moves[1:]) > 0.05


def test_closing_names_the_bucket_a_minute_completes() -> None:
    assert closing(START + 4 * MINUTE_MS, Timeframe.M5) == START
    assert closing(START + 3 * MINUTE_MS, Timeframe.M5) is None
    assert closing(START + 59 * MINUTE_MS, Timeframe.H1) == START
    assert closing(START + 59 * MINUTE_MS, Timeframe.M15) == START + 45 * MINUTE_MS


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"speed": 0}, "speed must be a positive number"),
        ({"symbols": ()}, "symbols is empty"),
        ({"backfill_minutes": -1}, "backfill_minutes must be 0 or more"),
    ],
)
def test_bad_feed_options_are_refused_in_one_line(changes: dict[str, object], message: str) -> None:
    options: dict[str, object] = {"symbols": ("BTCUSDT",), "seed": 1, **changes}
    with pytest.raises(ValueError, match=message) as error:
        FeedOptions(**options)  # type: ignore[arg-type]
    assert "\n" not in str(error.value)

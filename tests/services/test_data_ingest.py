"""Ingest against a real database: 1m and aggregated klines equal a hand fold of the generator's candles,
one outbox event per stored row on its subject, freshness, and restarts that add nothing twice."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from itertools import islice
from typing import Any, cast

import asyncpg
import pytest

from registry.subject import Service
from schemas import REGISTRY
from schemas.common import Timeframe
from schemas.market import KLINES, Kline
from services.data.aggregate import aggregate, frame
from services.data.feed import MINUTE_MS, Candle, Walk
from services.data.ingest import Ingest
from services.data.runner import Feeder, FeedOptions
from services.runtime import ServiceRuntime
from tests.manual_clock import ManualClock

START = 1_704_067_200_000  # 2024-01-01T00:00Z, an hour boundary
SIZES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60}
COLUMNS = "symbol, tf, open_time_ms, close_time_ms, open, high, low, close, volume, quote_volume, trades"


def take(symbol: str, n: int, *, seed: int = 11, start: int = START) -> list[Candle]:
    return list(islice(Walk(symbol, seed=seed, start_ms=start), n))


def hand_fold(candles: list[Candle], tf: str) -> list[dict[str, Any]]:
    """Rows of the complete epoch-aligned `tf` buckets of one symbol's candles, folded one by one."""
    size = SIZES[tf] * MINUTE_MS
    buckets: dict[int, list[Candle]] = {}
    for c in candles:
        buckets.setdefault(c.open_time_ms // size * size, []).append(c)
    out = []
    for start, group in sorted(buckets.items()):
        if len(group) != SIZES[tf]:
            continue
        high, low = group[0].high, group[0].low
        volume, quote, trades = Decimal(0), Decimal(0), 0
        for c in group:
            high, low = max(high, c.high), min(low, c.low)
            volume, quote, trades = volume + c.volume, quote + c.quote_volume, trades + c.trades
        out.append(
            {
                "symbol": group[0].symbol,
                "tf": tf,
                "open_time_ms": start,
                "close_time_ms": start + size - 1,
                "open": group[0].open,
                "high": high,
                "low": low,
                "close": group[-1].close,
                "volume": volume,
                "quote_volume": quote,
                "trades": trades,
            }
        )
    return out


def expected_rows(candles: list[Candle]) -> list[dict[str, Any]]:
    return [row for tf in SIZES for row in hand_fold(candles, tf)]


async def stored_rows(conn: asyncpg.Connection, symbol: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM market_data.spot_klines WHERE symbol = $1 "
        "ORDER BY array_position(ARRAY['1m','5m','15m','1h'], tf), open_time_ms",
        symbol,
    )
    return [dict(r) for r in rows]


async def outbox_klines(conn: asyncpg.Connection) -> list[tuple[str, Kline]]:
    codec = REGISTRY.codec(KLINES)
    rows = await conn.fetch("SELECT subject, payload FROM bus.outbox ORDER BY id")
    return [(r["subject"], codec.decode(bytes(r["payload"]))) for r in rows]


def as_row(event: Kline) -> dict[str, Any]:
    fields = event.model_dump(exclude={"schema_version", "event_id", "market", "closed"})
    return {**fields, "tf": event.tf.value}


@pytest.fixture
async def runtime(database: str, nats_url: str) -> AsyncIterator[ServiceRuntime]:
    runtime = ServiceRuntime(Service.DATA, nats_url, database, ManualClock(START))
    await runtime.open()
    try:
        yield runtime
    finally:
        await runtime.close()


async def feed_until(feeder: Feeder, clock: ManualClock, now: int, expected: int) -> None:
    """Once the feeder has anchored its simulated time, move the clock to `now` and wait until the
    feeder has ingested `expected` rows in all."""
    await until(lambda: feeder.sim is not None)
    clock.now = now
    await until(lambda: feeder.ingested >= expected)


async def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll `condition` until it holds; fail after `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


@pytest.mark.parametrize(("tf", "size"), [(Timeframe.M5, 5), (Timeframe.M15, 15), (Timeframe.H1, 60)])
def test_polars_aggregation_equals_a_hand_fold(tf: Timeframe, size: int) -> None:
    # ETH starts mid-hour: its first buckets are incomplete and must be left out.
    eth, btc = take("ETHUSDT", 200, start=START + 7 * MINUTE_MS), take("BTCUSDT", 130)
    rows = aggregate(frame([dataclasses.asdict(c) for c in eth + btc]), tf).to_dicts()
    expected = [
        {k: v for k, v in row.items() if k != "tf"}
        for row in hand_fold(btc, tf.value) + hand_fold(eth, tf.value)
    ]
    assert rows == expected
    assert len(rows) > 0


async def test_fed_candles_are_stored_aggregated_published_once_and_fresh(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    clock = ManualClock(START)
    ingest = Ingest(runtime.outbox, clock)
    symbols = ("BTCUSDT", "ETHUSDT")
    feeder = Feeder(lambda: runtime.pool, ingest, FeedOptions(symbols=symbols, seed=11, start_ms=START))
    await feeder.start()
    try:
        # 130 minutes: per symbol 130 1m, 26 5m, 8 15m and 2 1h candles.
        await feed_until(feeder, clock, START + 130 * MINUTE_MS, 2 * (130 + 26 + 8 + 2))
    finally:
        await feeder.stop()
    assert feeder.ingested == 2 * (130 + 26 + 8 + 2)

    published = await outbox_klines(owner)
    for symbol in symbols:
        expected = expected_rows(take(symbol, 130))
        assert await stored_rows(owner, symbol) == expected
        events = [(s, e) for s, e in published if e.symbol == symbol]
        assert sorted((as_row(e) for _, e in events), key=lambda r: (SIZES[r["tf"]], r["open_time_ms"])) == (
            expected
        )
        for subject, event in events:
            assert subject == f"market.klines.binance.spot.{symbol.lower()}.{event.tf.value}"
            assert event.closed
    assert len({e.event_id for _, e in published}) == len(published)

    freshness = await owner.fetch("SELECT * FROM market_data.source_freshness")
    assert [dict(r) for r in freshness] == [
        {
            "source": "binance-spot-demo",
            "last_event_ms": START + 130 * MINUTE_MS - 1,
            "last_ingest_ms": START + 130 * MINUTE_MS,
        }
    ]


async def test_a_higher_candle_is_published_in_the_transaction_after_its_last_minute(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    ingest = Ingest(runtime.outbox, ManualClock(START))
    candles = take("SOLUSDT", 15)
    async with runtime.pool.acquire() as proxy:
        conn = cast(asyncpg.Connection, proxy)
        published = [[e.tf.value for e in await ingest.ingest(conn, c)] for c in candles]
    assert published[3] == ["1m"]
    assert published[4] == ["1m", "5m"]
    assert published[14] == ["1m", "5m", "15m"]
    assert await owner.fetchval("SELECT count(*) FROM bus.outbox") == 15 + 3 + 1


async def test_a_feed_started_mid_hour_leaves_incomplete_buckets_out(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    ingest = Ingest(runtime.outbox, ManualClock(START))
    start = START + 7 * MINUTE_MS
    candles = take("SOLUSDT", 63, start=start)  # to START + 70 minutes: no complete hour
    async with runtime.pool.acquire() as proxy:
        conn = cast(asyncpg.Connection, proxy)
        for candle in candles:
            await ingest.ingest(conn, candle)
    rows = await stored_rows(owner, "SOLUSDT")
    assert rows == expected_rows(candles)
    assert {r["tf"] for r in rows} == {"1m", "5m", "15m"}
    assert min(r["open_time_ms"] for r in rows if r["tf"] == "5m") == START + 10 * MINUTE_MS


async def test_restart_resumes_after_the_last_stored_candle_and_repeats_nothing(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    clock = ManualClock(START)
    ingest = Ingest(runtime.outbox, clock)
    options = FeedOptions(symbols=("BTCUSDT", "ETHUSDT"), seed=11, start_ms=START)
    first = Feeder(lambda: runtime.pool, ingest, options)
    await first.start()
    try:
        await feed_until(first, clock, START + 42 * MINUTE_MS, 2 * (42 + 8 + 2))
    finally:
        await first.stop()

    # A second feeder (a restarted process) walks from the first stored candle and skips what is stored.
    second = Feeder(lambda: runtime.pool, ingest, options)
    await second.start()
    try:
        await feed_until(second, clock, START + 130 * MINUTE_MS, 2 * (88 + 18 + 6 + 2))
    finally:
        await second.stop()

    # Ingesting an already stored candle again is a no-op.
    async with runtime.pool.acquire() as proxy:
        conn = cast(asyncpg.Connection, proxy)
        assert await ingest.ingest(conn, take("BTCUSDT", 60)[59]) == []

    published = await outbox_klines(owner)
    keys = [(e.symbol, e.tf, e.open_time_ms) for _, e in published]
    assert len(keys) == len(set(keys)) == 2 * (130 + 26 + 8 + 2)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        assert await stored_rows(owner, symbol) == expected_rows(take(symbol, 130))

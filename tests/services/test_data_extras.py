"""The generated market data against a real database: ingested candles fill every market_data table on
its cadence as gordon_data_writer, equal to a pure replay of the generators (across a restart), move
each source's freshness, and a scripted scenario makes VPIN spike and DXY/VIX jump where it says."""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator
from decimal import Decimal
from itertools import islice
from typing import Any, cast

import asyncpg
import pytest

from registry.subject import Service
from services.data.extras import SOURCES, Extras
from services.data.feed import MINUTE_MS, Candle, Walk
from services.data.generators import funding, gex, long_short, macro, sentiment, vpin
from services.data.generators.agg_trades import trades_of
from services.data.generators.scenario import CALM, MacroShock, Scenario, ToxicFlow
from services.data.generators.seeded import DAY_MS, EIGHT_HOURS_MS, HOUR_MS
from services.data.ingest import Ingest
from services.runtime import ServiceRuntime
from tests.manual_clock import ManualClock

DAY = 1_704_067_200_000  # 2024-01-01T00:00Z: a UTC midnight, so also a funding time
SEED = 5
LEAD = "BTCUSDT"


def candles(symbol: str, start: int, n: int, seed: int = SEED) -> list[Candle]:
    return list(islice(Walk(symbol, seed=seed, start_ms=start), n))


@pytest.fixture
async def runtime(database: str, nats_url: str) -> AsyncIterator[ServiceRuntime]:
    runtime = ServiceRuntime(Service.DATA, nats_url, database, ManualClock(DAY))
    await runtime.open()
    try:
        yield runtime
    finally:
        await runtime.close()


async def feed(
    runtime: ServiceRuntime, stream: list[Candle], *, scenario: Scenario = CALM, seed: int = SEED
) -> None:
    """Ingest `stream` in order through Ingest with a fresh Extras (as a restarted service would)."""
    clock = ManualClock(stream[0].close_time_ms + 1)
    extras = Extras(clock, seed=seed, lead=LEAD, scenario=scenario)
    ingest = Ingest(runtime.outbox, clock, extras=extras.on_candle)
    async with runtime.pool.acquire() as proxy:
        conn = cast(asyncpg.Connection, proxy)
        assert await conn.fetchval("SELECT current_user") == "gordon_data_writer"
        for candle in stream:
            clock.now = candle.close_time_ms + 1
            await ingest.ingest(conn, candle)


async def rows(conn: asyncpg.Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in await conn.fetch(sql)]


def replay_chain(slots: list[int], step: Any) -> list[Any]:
    """Apply `step(previous, ts)` along `slots`, the way the writer chains a series."""
    out: list[Any] = []
    previous = None
    for ts in slots:
        value = step(previous, ts)
        out.append(value)
        previous = value
    return out


async def test_a_day_of_candles_fills_every_table_on_its_cadence_equal_to_a_pure_replay(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    start = DAY - 30 * MINUTE_MS
    stream = candles(LEAD, start, 24 * 60 + 31)  # 23:30 on day 0 through 00:00 on day 2
    half = len(stream) // 2
    await feed(runtime, stream[:half])
    await feed(runtime, stream[half:])  # a restart: new generators, nothing cached
    close_at = {c.close_time_ms + 1: c.close for c in stream}
    end = stream[-1].close_time_ms + 1

    # Funding every 8 h at 00, 08, 16 UTC, chained through the previous rate, at the kline close.
    funding_slots = [DAY + k * EIGHT_HOURS_MS for k in range(4)]
    expected_funding = replay_chain(
        funding_slots,
        lambda prev, ts: funding.funding_at(
            None if prev is None else prev.rate, seed=SEED, symbol=LEAD, ts_ms=ts, mark_price=close_at[ts]
        ),
    )
    assert await rows(owner, "SELECT * FROM market_data.funding_rates ORDER BY funding_time_ms") == [
        (f.symbol, f.funding_time_ms, f.rate, f.mark_price) for f in expected_funding
    ]

    # Hourly open interest, GEX and macro; daily fear & greed and stablecoin supply.
    hours = list(range(DAY, end + 1, HOUR_MS))
    assert len(hours) == 25
    oi = await rows(
        owner, "SELECT ts_ms, open_interest, open_interest_usd FROM market_data.open_interest ORDER BY ts_ms"
    )
    assert [r[0] for r in oi] == hours
    assert all(r[1] > 0 and r[2] == pytest.approx(float(r[1]) * close_at[r[0]], rel=1e-9) for r in oi)
    snapshots = await rows(
        owner, "SELECT ts_ms, total_gex, regime FROM market_data.gamma_exposure ORDER BY ts_ms"
    )
    expected_gex = [gex.gex_at(seed=SEED, symbol=LEAD, ts_ms=ts, spot=close_at[ts]) for ts in hours]
    assert snapshots == [(g.ts_ms, g.total_gex, g.regime) for g in expected_gex]
    profile = await rows(
        owner, "SELECT ts_ms, strike, gex FROM market_data.gamma_exposure_strikes ORDER BY ts_ms, strike"
    )
    assert profile == [(g.ts_ms, s.strike, s.gex) for g in expected_gex for s in g.strikes]
    for series in macro.SERIES:
        expected_macro = replay_chain(
            hours,
            lambda prev, ts, series=series: macro.macro_at(
                series, None if prev is None else prev.value, seed=SEED, ts_ms=ts
            ),
        )
        stored = await rows(
            owner, f"SELECT ts_ms, value FROM market_data.macro_data WHERE series = '{series}' ORDER BY ts_ms"
        )
        assert stored == [(p.ts_ms, p.value) for p in expected_macro]
    days = [DAY, DAY + DAY_MS]
    expected_fg = replay_chain(
        days,
        lambda prev, ts: sentiment.fear_greed_at(None if prev is None else prev.value, seed=SEED, ts_ms=ts),
    )
    assert await rows(owner, "SELECT * FROM market_data.fear_greed ORDER BY ts_ms") == [
        (f.ts_ms, f.value, f.classification) for f in expected_fg
    ]
    expected_supply = replay_chain(
        days,
        lambda prev, ts: sentiment.stablecoin_supply_at(
            None if prev is None else prev.supply_usd, seed=SEED, ts_ms=ts, btc_price=close_at[ts]
        ),
    )
    assert await rows(owner, "SELECT * FROM market_data.stablecoin_supply ORDER BY ts_ms") == [
        (s.ts_ms, s.supply_usd, s.ssr) for s in expected_supply
    ]

    # Every candle's aggregated trades, and a VPIN per minute once 12 buckets are full.
    trades = [t for c in stream for t in trades_of(c, seed=SEED)]
    stored_trades = await rows(owner, "SELECT * FROM market_data.agg_trades ORDER BY agg_id")
    assert stored_trades == [(t.symbol, t.agg_id, t.ts_ms, t.price, t.qty, t.buyer_maker) for t in trades]
    assert sum((t.qty for t in trades), Decimal(0)) == sum((c.volume for c in stream), Decimal(0))
    minutes = [c.close_time_ms + 1 for c in stream]
    expected_vpin = []
    times = [t.ts_ms for t in trades]
    for ts in minutes:
        window = trades[bisect.bisect_left(times, ts - vpin.WINDOW_MS) : bisect.bisect_left(times, ts)]
        if (value := vpin.vpin(window, vpin.bucket_volume(LEAD))) is not None:
            expected_vpin.append((ts, round(value, 8)))
    assert len(expected_vpin) > 1000
    stored_vpin = await rows(
        owner, "SELECT ts_ms, value FROM market_data.metrics WHERE metric = 'vpin' ORDER BY ts_ms"
    )
    assert stored_vpin == expected_vpin
    five = [ts for ts in minutes if ts % long_short.PERIOD_MS == 0]
    expected_ratio = replay_chain(
        five, lambda prev, ts: long_short.long_short_ratio(prev, seed=SEED, symbol=LEAD, ts_ms=ts)
    )
    stored_ratio = await rows(
        owner, "SELECT ts_ms, value FROM market_data.metrics WHERE metric = 'long_short_ratio' ORDER BY ts_ms"
    )
    assert stored_ratio == list(zip(five, expected_ratio, strict=True))

    freshness = dict(await rows(owner, "SELECT source, last_event_ms FROM market_data.source_freshness"))
    assert freshness == {
        "binance-spot-demo": end - 1,
        SOURCES["agg_trades"]: trades[-1].ts_ms,
        SOURCES["metrics"]: end,
        SOURCES["funding"]: funding_slots[-1],
        SOURCES["open_interest"]: hours[-1],
        SOURCES["gex"]: hours[-1],
        SOURCES["macro"]: hours[-1],
        SOURCES["fear_greed"]: days[-1],
        SOURCES["stablecoin_supply"]: days[-1],
    }


async def test_symbols_other_than_the_lead_get_their_own_series_and_no_macro(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    stream = candles("ETHUSDT", DAY - 5 * MINUTE_MS, 70)
    await feed(runtime, stream)
    assert await rows(owner, "SELECT symbol, ts_ms FROM market_data.open_interest") == [
        ("ETHUSDT", DAY),
        ("ETHUSDT", DAY + HOUR_MS),
    ]
    assert await rows(owner, "SELECT symbol, funding_time_ms FROM market_data.funding_rates") == [
        ("ETHUSDT", DAY)
    ]
    assert await owner.fetchval("SELECT count(*) FROM market_data.macro_data") == 0
    assert await owner.fetchval("SELECT count(*) FROM market_data.fear_greed") == 0


async def test_another_seed_writes_other_values(runtime: ServiceRuntime, owner: asyncpg.Connection) -> None:
    await feed(runtime, candles(LEAD, DAY - MINUTE_MS, 2, seed=SEED), seed=SEED)
    first = await rows(owner, "SELECT ts_ms, value FROM market_data.macro_data ORDER BY series")
    await owner.execute("TRUNCATE market_data.macro_data")
    await owner.execute("DELETE FROM market_data.spot_klines")
    await feed(runtime, candles(LEAD, DAY - MINUTE_MS, 2, seed=SEED), seed=SEED + 1)
    second = await rows(owner, "SELECT ts_ms, value FROM market_data.macro_data ORDER BY series")
    assert [r[0] for r in first] == [r[0] for r in second] == [DAY, DAY]
    assert first != second


async def test_a_scenario_spikes_vpin_and_shocks_dxy_and_vix_where_it_says(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    toxic_from = DAY + 3 * HOUR_MS
    scenario = Scenario(
        toxic_flows=(ToxicFlow(toxic_from, DAY + 5 * HOUR_MS, buy_share=0.98),),
        macro_shocks=(MacroShock(DAY + 2 * HOUR_MS, dxy_pct=2.0, vix_points=15.0),),
    )
    await feed(runtime, candles(LEAD, DAY, 5 * 60), scenario=scenario)
    calm = await owner.fetchval(
        "SELECT max(value) FROM market_data.v_metrics_reader WHERE metric = 'vpin' AND ts_ms <= $1",
        toxic_from,
    )
    toxic = await owner.fetchval(
        "SELECT min(value) FROM market_data.v_metrics_reader WHERE metric = 'vpin' AND ts_ms >= $1",
        DAY + 5 * HOUR_MS - 1,
    )
    assert calm < 0.5
    assert toxic > 0.9
    macro_rows = dict(
        ((r["series"], r["ts_ms"]), r["value"])
        for r in await owner.fetch("SELECT * FROM market_data.v_macro_reader")
    )
    before, at = DAY + HOUR_MS, DAY + 2 * HOUR_MS
    assert macro_rows["dxy", at] / macro_rows["dxy", before] > 1.015
    assert macro_rows["vix", at] - macro_rows["vix", before] > 12.0
    after = DAY + 3 * HOUR_MS
    assert abs(macro_rows["dxy", after] / macro_rows["dxy", at] - 1) < 0.01, (
        "the walk carries on from the jump"
    )

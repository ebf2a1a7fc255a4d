"""The perpetual candles: the pure generator (determinism, a basis that needs no stored row, bounded,
mean-reverting and signed like funding, volume a multiple of spot's), and against a real database the
spot feed's twin in perp_klines (1m and aggregates) with its klines on the perp subjects, equal to a
pure replay across a restart, in the spot candle's transaction."""

from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any, cast

import asyncpg
import pytest

from schemas.common import Market
from services.data.extras import Extras
from services.data.feed import MINUTE_MS, Candle, profile_of, to_tick
from services.data.generators import funding, perp
from services.data.generators.seeded import HOUR_MS
from services.data.ingest import Ingest
from services.data.perp import Perp
from services.runtime import ServiceRuntime
from tests.manual_clock import ManualClock
from tests.services.test_data_extras import DAY, LEAD, SEED, candles
from tests.services.test_data_extras import runtime as runtime  # the fixture: a data-service runtime at DAY
from tests.services.test_data_ingest import COLUMNS, SIZES, expected_rows, outbox_klines


def end_of(candle: Candle) -> int:
    return candle.close_time_ms + 1


def funding_chain(symbol: str, until_ms: int, seed: int = SEED) -> dict[int, float]:
    """The rates the funding generator pays at every 8 h slot from DAY to `until_ms`, chained."""
    rates: dict[int, float] = {}
    previous = None
    for ts in range(DAY, until_ms + 1, funding.PERIOD_MS):
        previous = rates[ts] = funding.rate_at(previous, seed=seed, symbol=symbol, ts_ms=ts)
    return rates


def replay(stream: list[Candle], seed: int = SEED) -> list[Candle]:
    """The perpetual candles a feed of `stream` writes with the funding series from DAY on: the basis of
    a minute targets the rate paid before its funding time (None before DAY) and the one paid at it."""
    rates = funding_chain(stream[0].symbol, perp.due_ms(end_of(stream[-1])), seed)
    out = []
    for spot in stream:
        due = perp.due_ms(end_of(spot))
        paid = rates.get(due - funding.PERIOD_MS)
        rate = funding.rate_at(paid, seed=seed, symbol=spot.symbol, ts_ms=due)
        out.append(perp.perp_of(spot, seed=seed, target=perp.target_at(end_of(spot), paid=paid, due=rate)))
    return out


def basis(twin: Candle, spot: Candle) -> float:
    return twin.close / spot.close - 1


def test_the_same_seed_gives_the_same_candle_and_no_state_is_carried() -> None:
    stream = candles("ETHUSDT", DAY, 200)
    first = [perp.perp_of(c, seed=SEED, target=0.0001) for c in stream]
    perp._shock.cache_clear()  # a fresh process: what the cache held changes nothing
    assert [perp.perp_of(c, seed=SEED, target=0.0001) for c in reversed(stream)] == first[::-1]
    other = [perp.perp_of(c, seed=SEED + 1, target=0.0001) for c in stream]
    assert sum(a.close != b.close for a, b in zip(first, other, strict=True)) > 0.9 * len(first)
    for spot, twin in zip(stream, first, strict=True):
        assert (twin.symbol, twin.open_time_ms, twin.close_time_ms) == (
            spot.symbol,
            spot.open_time_ms,
            spot.close_time_ms,
        )


def test_a_restarted_series_continues_the_uninterrupted_one() -> None:
    # The basis of a minute is a function of its time: resuming at any minute gives the same candles.
    stream = candles("SOLUSDT", DAY, 300)
    whole = replay(stream)
    perp._shock.cache_clear()
    assert replay(stream[:137]) + replay(stream[137:]) == whole


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"])
def test_candles_are_spot_times_one_plus_basis_well_formed_and_trade_more(symbol: str) -> None:
    stream = candles(symbol, DAY, 3 * 24 * 60)
    tick = profile_of(symbol).tick
    ratios = []
    for spot in stream:
        twin = perp.perp_of(spot, seed=SEED, target=0.0002)
        factor = 1 + perp.basis_at(seed=SEED, symbol=symbol, end_ms=end_of(spot), target=0.0002)
        assert (twin.open, twin.high, twin.low, twin.close) == tuple(
            to_tick(p * factor, tick) for p in (spot.open, spot.high, spot.low, spot.close)
        )
        assert 0 < twin.low <= min(twin.open, twin.close) <= max(twin.open, twin.close) <= twin.high
        assert twin.trades >= 1
        average = twin.quote_volume / twin.volume
        assert Decimal(repr(twin.low)) * Decimal("0.999999") <= average
        assert average <= Decimal(repr(twin.high)) * Decimal("1.000001")
        ratios.append(float(twin.volume / spot.volume))
    assert 2.7 < statistics.mean(ratios) < 3.3
    assert sum(r > 1 for r in ratios) / len(ratios) > 0.99


def test_the_basis_is_a_few_bps_bounded_and_mean_reverting() -> None:
    ends = [DAY + k * MINUTE_MS for k in range(1, 3 * 24 * 60)]
    deviations = [perp.basis_at(seed=SEED, symbol=LEAD, end_ms=e, target=0.0) for e in ends]
    assert max(abs(d) for d in deviations) < 0.0008  # under 8 bps of noise around the target
    assert 0.00005 < statistics.pstdev(deviations) < 0.00015  # about 0.9 bp
    assert 0.8 < statistics.correlation(deviations[:-1], deviations[1:]) < 0.97
    assert abs(statistics.correlation(deviations[:-120], deviations[120:])) < 0.2  # two hours on: gone
    # The cap holds whatever the target.
    for target in (-0.05, -perp.CAP, perp.CAP, 0.05):
        for e in ends[:200]:
            assert abs(perp.basis_at(seed=SEED, symbol=LEAD, end_ms=e, target=target)) <= perp.CAP


def test_the_target_glides_from_the_rate_paid_to_the_rate_due_and_the_basis_follows_its_sign() -> None:
    assert perp.due_ms(DAY) == DAY
    assert perp.due_ms(DAY + MINUTE_MS) == perp.due_ms(DAY + funding.PERIOD_MS) == DAY + funding.PERIOD_MS
    start, mid, due = DAY, DAY + funding.PERIOD_MS // 2, DAY + funding.PERIOD_MS
    assert perp.target_at(due, paid=0.0003, due=-0.0001) == pytest.approx(-0.0001)
    assert perp.target_at(mid, paid=0.0003, due=-0.0001) == pytest.approx(0.0001)
    assert perp.target_at(start + MINUTE_MS, paid=None, due=0.0005) == pytest.approx(
        funding.BASE_RATE + (0.0005 - funding.BASE_RATE) / 480
    )
    stream = candles(LEAD, start, 480)  # the period paid at 08:00
    for paid, rate in ((-0.0008, -0.0006), (0.0006, 0.0009)):
        values = [
            basis(perp.perp_of(c, seed=SEED, target=perp.target_at(end_of(c), paid=paid, due=rate)), c)
            for c in stream
        ]
        assert all((v > 0) == (rate > 0) for v in values)


def test_a_perp_twin_ingests_into_market_perp_only() -> None:
    with pytest.raises(ValueError, match="market perp, not spot"):
        Perp(Ingest(cast(Any, None), ManualClock(DAY)), seed=SEED)


async def feed(runtime: ServiceRuntime, stream: list[Candle], *, extras: bool = True) -> list[list[str]]:
    """Ingest `stream` as the data service does, with a fresh Perp and Extras (a restarted service);
    the markets and time frames of the klines each candle's transaction published."""
    clock = ManualClock(end_of(stream[0]))
    twin = Perp(Ingest(runtime.outbox, clock, market=Market.PERP), seed=SEED, funding=extras)
    more = Extras(clock, seed=SEED, lead=LEAD).on_candle if extras else None
    ingest = Ingest(runtime.outbox, clock, extras=more, derived=twin.on_candle)
    published = []
    async with runtime.pool.acquire() as proxy:
        conn = cast(asyncpg.Connection, proxy)
        for candle in stream:
            clock.now = end_of(candle)
            published.append([f"{e.market.value} {e.tf.value}" for e in await ingest.ingest(conn, candle)])
    return published


async def perp_rows(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM market_data.perp_klines "
        "ORDER BY array_position(ARRAY['1m','5m','15m','1h'], tf), open_time_ms"
    )
    return [dict(r) for r in rows]


async def test_the_spot_feed_writes_its_twin_and_aggregates_equal_to_a_pure_replay_across_a_restart(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    stream = candles(LEAD, DAY - 30 * MINUTE_MS, 8 * 60 + 61)  # 23:30 to 08:31: funding at 00:00 and 08:00
    half = 250
    published = await feed(runtime, stream[:half])
    published += await feed(runtime, stream[half:])
    twins = replay(stream)

    expected = expected_rows(twins)
    assert await perp_rows(owner) == expected
    assert {r["tf"] for r in expected} == set(SIZES)
    assert len([r for r in expected if r["tf"] == "1h"]) == 8
    # The funding series the basis followed is the one stored, and the premium has its sign.
    stored = dict(await owner.fetch("SELECT funding_time_ms, rate FROM market_data.funding_rates"))
    assert stored == funding_chain(LEAD, DAY + funding.PERIOD_MS)
    spot_close = {c.open_time_ms: c.close for c in stream}
    period = [r for r in expected if r["tf"] == "1m" and DAY <= r["open_time_ms"] < DAY + funding.PERIOD_MS]
    mean_basis = statistics.mean(r["close"] / spot_close[r["open_time_ms"]] - 1 for r in period)
    assert mean_basis == pytest.approx((stored[DAY] + stored[DAY + funding.PERIOD_MS]) / 2, abs=0.00005)

    # One event per stored perp row, on the perp subjects, in the spot candle's transaction after its own.
    events = [(s, e) for s, e in await outbox_klines(owner) if e.market is Market.PERP]
    assert len(events) == len(expected)
    assert sorted((e.tf.value, e.open_time_ms, e.close, e.volume) for _, e in events) == sorted(
        (r["tf"], r["open_time_ms"], r["close"], r["volume"]) for r in expected
    )
    assert {s for s, e in events} == {f"market.klines.binance.perp.btcusdt.{tf}" for tf in SIZES}
    at_hour = stream.index(next(c for c in stream if end_of(c) == DAY + HOUR_MS))
    tfs = ("1m", "5m", "15m", "1h")
    assert published[at_hour] == [f"{market} {tf}" for market in ("spot", "perp") for tf in tfs]
    freshness = dict(await owner.fetch("SELECT source, last_event_ms FROM market_data.source_freshness"))
    assert freshness["binance-perp-demo"] == freshness["binance-spot-demo"] == end_of(stream[-1]) - 1

    # A spot candle ingested again adds no perpetual one either.
    assert await feed(runtime, stream[-3:]) == [[], [], []]
    assert await owner.fetchval("SELECT count(*) FROM market_data.perp_klines") == len(expected)


async def test_without_the_funding_series_the_basis_reverts_to_the_base_rate(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    stream = candles("ETHUSDT", DAY - 5 * MINUTE_MS, 20)
    await feed(runtime, stream, extras=False)
    twins = [perp.perp_of(c, seed=SEED, target=funding.BASE_RATE) for c in stream]
    assert await perp_rows(owner) == expected_rows(twins)
    assert await owner.fetchval("SELECT count(*) FROM market_data.funding_rates") == 0


async def test_a_database_fed_spot_only_gets_perpetual_candles_from_where_the_feed_resumes(
    runtime: ServiceRuntime, owner: asyncpg.Connection
) -> None:
    stream = candles(LEAD, DAY, 20)
    spot_only = Ingest(runtime.outbox, ManualClock(DAY))
    async with runtime.pool.acquire() as proxy:
        for candle in stream[:12]:
            await spot_only.ingest(cast(asyncpg.Connection, proxy), candle)
    await feed(runtime, stream[12:], extras=False)
    twins = [perp.perp_of(c, seed=SEED, target=funding.BASE_RATE) for c in stream[12:]]
    assert await perp_rows(owner) == expected_rows(twins)
    assert [r["tf"] for r in await perp_rows(owner)] == ["1m"] * 8 + ["5m"]  # 00:15-00:20, complete

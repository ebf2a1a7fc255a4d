"""The pure market-data generators: the invariants of each (sums, ranges, bands, walls), VPIN on
hand-made flows, the scenario's effect, and determinism for a seed."""

from __future__ import annotations

from decimal import Decimal
from itertools import islice

import pytest

from services.data.feed import MINUTE_MS, Candle, Walk
from services.data.generators import funding, gex, long_short, macro, open_interest, sentiment, vpin
from services.data.generators.agg_trades import AggTrade, trades_of
from services.data.generators.scenario import MacroShock, Scenario, ToxicFlow
from services.data.generators.seeded import HOUR_MS, on_cadence

START = 1_704_067_200_000


def candles(symbol: str, n: int, seed: int = 3) -> list[Candle]:
    return list(islice(Walk(symbol, seed=seed, start_ms=START), n))


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"])
def test_agg_trades_sum_to_the_candle_volume_within_its_range_and_minute(symbol: str) -> None:
    for candle in candles(symbol, 120):
        trades = trades_of(candle, seed=3)
        assert len(trades) >= 4
        assert sum((t.qty for t in trades), Decimal(0)) == candle.volume
        assert all(t.qty > 0 and candle.low <= t.price <= candle.high for t in trades)
        assert all(candle.open_time_ms <= t.ts_ms <= candle.close_time_ms for t in trades)
        ids = [t.agg_id for t in trades]
        assert ids == sorted(set(ids))
        assert [t.ts_ms for t in trades] == sorted(t.ts_ms for t in trades)


def test_agg_trades_are_deterministic_for_a_seed_and_differ_across_seeds() -> None:
    candle = candles("BTCUSDT", 1)[0]
    assert trades_of(candle, seed=3) == trades_of(candle, seed=3)
    assert trades_of(candle, seed=3) != trades_of(candle, seed=4)


def trade(i: int, qty: str, buyer_maker: bool) -> AggTrade:
    return AggTrade("BTCUSDT", i, i, 1.0, Decimal(qty), buyer_maker)


def test_vpin_of_balanced_one_sided_and_short_flows() -> None:
    balanced = [trade(i, "1", i % 2 == 0) for i in range(40)]  # each bucket of 2: one buy, one sell
    assert vpin.vpin(balanced, 2.0, buckets=10) == 0.0
    one_sided = [trade(i, "1", False) for i in range(40)]
    assert vpin.vpin(one_sided, 2.0, buckets=10) == 1.0
    assert vpin.vpin(one_sided[:19], 2.0, buckets=10) is None  # 9 complete buckets only
    # A 3-unit buy straddles buckets of 2: [2 buy], [1 buy + 1 sell] -> (2 + 0) / 4.
    assert vpin.vpin([trade(0, "3", False), trade(1, "1", True)], 2.0, buckets=2) == 0.5


def test_toxic_flow_pushes_vpin_toward_one_only_where_and_for_whom_it_is_scripted() -> None:
    stream = candles("BTCUSDT", 180)
    scenario = Scenario(
        toxic_flows=(ToxicFlow(START + 90 * MINUTE_MS, START + 180 * MINUTE_MS, symbol="BTCUSDT"),)
    )
    calm = [t for c in stream for t in trades_of(c, seed=3)]
    toxic = [t for c in stream for t in trades_of(c, seed=3, scenario=scenario)]
    size = vpin.bucket_volume("BTCUSDT")
    before = vpin.vpin([t for t in toxic if t.ts_ms < START + 90 * MINUTE_MS], size)
    assert before == vpin.vpin([t for t in calm if t.ts_ms < START + 90 * MINUTE_MS], size)
    assert before is not None
    assert before < 0.5
    spiked = vpin.vpin(toxic, size)
    assert spiked is not None
    assert spiked > 0.9
    eth = candles("ETHUSDT", 100)[95]  # inside the window, another symbol
    assert scenario.buy_share("ETHUSDT", START + 100 * MINUTE_MS) is None
    assert trades_of(eth, seed=3, scenario=scenario) == trades_of(eth, seed=3)


def test_a_macro_shock_jumps_both_series_at_its_hour_only() -> None:
    at = START + 5 * HOUR_MS
    shocked = Scenario(macro_shocks=(MacroShock(at, dxy_pct=2.0, vix_points=15.0),))
    calm_dxy = macro.macro_at("dxy", 104.0, seed=1, ts_ms=at)
    assert macro.macro_at("dxy", 104.0, seed=1, ts_ms=at, scenario=shocked).value == pytest.approx(
        calm_dxy.value * 1.02, abs=1e-4
    )
    calm_vix = macro.macro_at("vix", 18.0, seed=1, ts_ms=at)
    assert macro.macro_at("vix", 18.0, seed=1, ts_ms=at, scenario=shocked).value == pytest.approx(
        calm_vix.value + 15.0, abs=1e-4
    )
    other = at + HOUR_MS
    assert macro.macro_at("vix", 18.0, seed=1, ts_ms=other, scenario=shocked) == macro.macro_at(
        "vix", 18.0, seed=1, ts_ms=other
    )
    with pytest.raises(ValueError, match="unknown macro series"):
        macro.macro_at("spx", None, seed=1, ts_ms=at)


def test_scenario_windows_are_checked() -> None:
    with pytest.raises(ValueError, match="ends after it starts"):
        ToxicFlow(10, 10)
    with pytest.raises(ValueError, match="fraction"):
        ToxicFlow(0, 10, buy_share=1.5)


def test_fear_greed_stays_in_range_and_is_classified_in_its_band() -> None:
    value = None
    seen = set()
    for day in range(400):
        index = sentiment.fear_greed_at(value, seed=2, ts_ms=START + day * 86_400_000)
        assert 0 <= index.value <= 100
        assert index.classification == sentiment.classify(index.value)
        seen.add(index.classification)
        value = index.value
    assert {"fear", "neutral", "greed"} <= seen
    assert [sentiment.classify(v) for v in (0, 24, 25, 44, 45, 55, 56, 75, 76, 100)] == [
        "extreme_fear",
        "extreme_fear",
        "fear",
        "fear",
        "neutral",
        "neutral",
        "greed",
        "greed",
        "extreme_greed",
        "extreme_greed",
    ]


def test_funding_stays_within_the_cap_and_ssr_follows_price_over_supply() -> None:
    rate = None
    for k in range(500):
        row = funding.funding_at(rate, seed=9, symbol="BTCUSDT", ts_ms=k * funding.PERIOD_MS, mark_price=1.0)
        assert -funding.CAP <= row.rate <= funding.CAP
        rate = row.rate
    supply = sentiment.stablecoin_supply_at(None, seed=1, ts_ms=START, btc_price=60_000.0)
    assert supply.ssr == pytest.approx(60_000.0 * sentiment.BTC_CIRCULATING / supply.supply_usd, rel=1e-6)


def test_open_interest_is_valued_at_the_price_and_the_ratio_stays_positive() -> None:
    point = open_interest.open_interest_at(
        None, seed=1, symbol="ETHUSDT", ts_ms=START, price=3000.0, hour_return=0
    )
    assert point.open_interest > 0
    assert point.open_interest_usd == pytest.approx(float(point.open_interest) * 3000.0, abs=0.01)
    ratio = None
    for k in range(1000):
        ratio = long_short.long_short_ratio(ratio, seed=1, symbol="BTCUSDT", ts_ms=k * long_short.PERIOD_MS)
        assert ratio > 0


@pytest.mark.parametrize("spot", [0.42, 150.3, 3012.5, 61234.0])
def test_gex_walls_flip_and_regime_agree_with_the_profile(spot: float) -> None:
    for hour in range(24):
        snap = gex.gex_at(seed=4, symbol="BTCUSDT", ts_ms=START + hour * HOUR_MS, spot=spot)
        strikes = snap.strikes
        assert len(strikes) == 2 * gex.STRIKES_EACH_SIDE + 1
        assert [s.strike for s in strikes] == sorted({s.strike for s in strikes})
        assert snap.total_gex == pytest.approx(sum(s.gex for s in strikes))
        assert snap.regime == ("positive" if snap.total_gex >= 0 else "negative")
        assert snap.call_wall == max(strikes, key=lambda s: s.gex).strike
        assert snap.put_wall == min(strikes, key=lambda s: s.gex).strike
        if snap.flip_price is not None:
            assert strikes[0].strike <= snap.flip_price <= strikes[-1].strike


def test_flip_is_interpolated_where_the_cumulative_gex_changes_sign() -> None:
    profile = (gex.StrikeGex(100.0, -3.0), gex.StrikeGex(110.0, 1.0), gex.StrikeGex(120.0, 4.0))
    # Cumulative: -3, -2, +2: the sign changes between 110 and 120, halfway.
    assert gex.flip_of(profile) == 115.0
    assert gex.flip_of((gex.StrikeGex(100.0, 1.0), gex.StrikeGex(110.0, 1.0))) is None


def test_cadences_are_epoch_aligned() -> None:
    assert on_cadence(START, funding.PERIOD_MS)
    assert not on_cadence(START + HOUR_MS, funding.PERIOD_MS)
    assert on_cadence(START + 8 * HOUR_MS, funding.PERIOD_MS)
    assert on_cadence(START + HOUR_MS, open_interest.PERIOD_MS)
    assert not on_cadence(START + MINUTE_MS, open_interest.PERIOD_MS)

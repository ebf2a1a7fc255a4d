"""The correlation, VPIN and macro breakers' pure parts and the read cadence, on hand-made series:
correlations checked against `statistics.correlation`, thresholds strictly exceeded, windows by time."""

from __future__ import annotations

import statistics

import pytest

from schemas.common import Market
from schemas.risk import Breaker
from services.data.generators.macro import macro_at
from services.data.generators.scenario import CALM, MacroShock, Scenario
from services.data.service import DEFAULT_SEED
from services.risk.breakers import Reading
from services.risk.cadence import Cadence
from services.risk.correlation import (
    MIN_RETURNS,
    CloseWindows,
    average_correlation,
    check_correlation,
    pearson,
)
from services.risk.macro import check_macro, relative_change
from services.risk.vpin import check_vpin

BTC = (Market.SPOT, "BTCUSDT")
ETH = (Market.SPOT, "ETHUSDT")
SOL = (Market.SPOT, "SOLUSDT")
MINUTE = 60_000

BASE = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.005, -0.015, 0.012, -0.008] * 4
NOISE = [0.004, -0.003, 0.001, 0.005, -0.004, 0.002, -0.005, 0.003, -0.001, 0.002] * 4


def closes_of(returns: list[float], start: float = 100.0) -> list[float]:
    out = [start]
    for r in returns:
        out.append(out[-1] * (1 + r))
    return out


def windows_with(series: dict[tuple[Market, str], list[float]], window_ms: int = 86_400_000) -> CloseWindows:
    windows = CloseWindows(window_ms)
    for key, closes in series.items():
        for i, close in enumerate(closes):
            assert windows.add(key, (i + 1) * MINUTE, close)
    return windows


def test_pearson_matches_statistics_and_refuses_a_flat_series() -> None:
    xs, ys = BASE[:10], [b + n for b, n in zip(BASE[:10], NOISE[:10], strict=True)]
    assert pearson(xs, ys) == pytest.approx(statistics.correlation(xs, ys))
    assert pearson(xs, [2 * x for x in xs]) == pytest.approx(1.0)
    assert pearson(xs, [-x for x in xs]) == pytest.approx(-1.0)
    assert pearson(xs, [0.5] * 10) is None


def test_returns_are_close_over_previous_close_by_close_time() -> None:
    windows = windows_with({BTC: [100.0, 110.0, 99.0]})
    assert windows.returns(BTC) == pytest.approx({2 * MINUTE: 0.1, 3 * MINUTE: -0.1})
    assert not windows.add(BTC, 3 * MINUTE, 50.0)  # a redelivered close changes nothing
    assert windows.returns(BTC)[3 * MINUTE] == pytest.approx(-0.1)


def test_average_correlation_over_every_pair() -> None:
    eth = [2 * b + n for b, n in zip(BASE, NOISE, strict=True)]
    sol = [b - 2 * n for b, n in zip(BASE, NOISE, strict=True)]
    windows = windows_with({BTC: closes_of(BASE), ETH: closes_of(eth), SOL: closes_of(sol)})
    series = {k: windows.returns(k) for k in (BTC, ETH, SOL)}
    expected = [
        statistics.correlation(BASE, eth),
        statistics.correlation(BASE, sol),
        statistics.correlation(eth, sol),
    ]
    found = average_correlation(series)
    assert found is not None
    assert found[0] == pytest.approx(sum(expected) / 3)
    assert found[1] == 3


def test_correlation_trips_strictly_above_the_threshold_on_the_traded_symbols_only() -> None:
    together = [3 * b for b in BASE]
    against = [-b + n for b, n in zip(BASE, NOISE, strict=True)]
    windows = windows_with({BTC: closes_of(BASE), ETH: closes_of(together), SOL: closes_of(against)})
    breach = check_correlation(windows, [BTC, ETH], 0.9)
    assert breach is not None
    assert breach.breaker is Breaker.CORRELATION
    assert breach.value == pytest.approx(1.0)
    assert "over 1 pair(s) of BTCUSDT, ETHUSDT" in breach.message
    assert check_correlation(windows, [BTC, ETH], 1.0) is None  # equal is not beyond
    assert check_correlation(windows, [BTC, SOL], 0.9) is None
    assert check_correlation(windows, [BTC], 0.0) is None  # one symbol has no pair


def test_too_few_common_returns_make_no_correlation() -> None:
    short = closes_of(BASE[: MIN_RETURNS - 1])
    windows = windows_with({BTC: short, ETH: short})
    assert check_correlation(windows, [BTC, ETH], 0.0) is None
    assert windows.add(BTC, (len(short) + 1) * MINUTE, short[-1] * 1.01)
    assert windows.add(ETH, (len(short) + 1) * MINUTE, short[-1] * 1.01)
    assert check_correlation(windows, [BTC, ETH], 0.9) is not None


def test_the_window_forgets_closes_by_kline_time_and_can_be_resized() -> None:
    windows = windows_with({BTC: closes_of(BASE), ETH: closes_of(BASE)}, window_ms=35 * MINUTE)
    assert len(windows.closes[BTC]) == 36  # closes at minutes 6..41: the window and its start
    assert check_correlation(windows, [BTC, ETH], 0.9) is not None
    version = windows.version
    windows.resize(20 * MINUTE)
    assert windows.version != version
    assert len(windows.returns(BTC)) == 20 < MIN_RETURNS
    assert check_correlation(windows, [BTC, ETH], 0.9) is None


def test_vpin_trips_on_the_highest_symbol_within_the_window() -> None:
    latest = {"BTCUSDT": Reading(1_000, 0.7), "ETHUSDT": Reading(2_000, 0.86)}
    breach = check_vpin(latest, 3_000, 3_600_000, 0.8)
    assert breach is not None
    assert breach.breaker is Breaker.VPIN
    assert (breach.value, breach.threshold) == (0.86, 0.8)
    assert breach.message == "ETHUSDT VPIN 0.860 at 2000 ms (limit 0.8)"
    assert check_vpin(latest, 3_000, 3_600_000, 0.86) is None
    assert check_vpin(latest, 2_000 + 3_600_001, 3_600_000, 0.8) is None  # older than the window
    assert check_vpin(latest, 1_500, 3_600_000, 0.8) is None  # the spike is after now
    assert check_vpin({}, 3_000, 3_600_000, 0.0) is None


def test_relative_change_is_newest_over_oldest() -> None:
    assert relative_change([Reading(0, 20.0), Reading(1, 25.0), Reading(2, 30.0)]) == pytest.approx(0.5)
    assert relative_change([Reading(0, 20.0)]) is None
    assert relative_change([Reading(0, 0.0), Reading(1, 1.0)]) is None


def test_macro_trips_on_a_shock_either_way_within_the_window() -> None:
    day = 86_400_000
    calm = {"dxy": [Reading(0, 104.0), Reading(day, 104.5)], "vix": [Reading(0, 16.0), Reading(day, 16.5)]}
    assert check_macro(calm, day, 3 * day, 0.2) is None
    spike = {**calm, "vix": [Reading(0, 16.0), Reading(day, 24.0)]}
    breach = check_macro(spike, day, 3 * day, 0.2)
    assert breach is not None
    assert breach.breaker is Breaker.MACRO
    assert breach.value == 0.5
    assert breach.message.startswith("VIX moved +50.00% within")
    crash = {**calm, "dxy": [Reading(0, 104.0), Reading(day, 78.0)]}
    fall = check_macro(crash, day, 3 * day, 0.2)
    assert fall is not None
    assert fall.value == pytest.approx(0.25)
    assert "DXY moved -25.00%" in fall.message
    assert check_macro(spike, day, 3 * day, 0.5) is None  # equal is not beyond
    assert check_macro(spike, day, day - 1, 0.2) is None  # one point left in the window: no change


def walk_trips(
    scenario: Scenario, hours: int, threshold: float = 0.25, window_ms: int = 7_200_000
) -> list[int]:
    """The hours at which the macro breaker trips over the data service's seeded hourly walk."""
    hour, start = 3_600_000, 1_704_067_200_000
    points: dict[str, list[Reading]] = {"dxy": [], "vix": []}
    trips = []
    for h in range(hours):
        ts = start + h * hour
        for series, known in points.items():
            previous = known[-1].value if known else None
            point = macro_at(series, previous, seed=DEFAULT_SEED, ts_ms=ts, scenario=scenario)
            known.append(Reading(point.ts_ms, point.value))
        if check_macro(points, ts, window_ms, threshold) is not None:
            trips.append(h)
    return trips


def test_the_default_macro_row_ignores_the_calm_walk_and_catches_a_vix_shock() -> None:
    # 60 days of the seeded walk: VIX's ordinary two-hour moves stay under 11%, far from 25%.
    assert walk_trips(CALM, 60 * 24) == []
    assert walk_trips(CALM, 60 * 24, threshold=0.11) == []
    shock = Scenario(
        macro_shocks=(MacroShock(1_704_067_200_000 + 100 * 3_600_000, dxy_pct=0.0, vix_points=15.0),)
    )
    assert walk_trips(shock, 200)[:1] == [100]
    # A 2% DXY shock is lost under that threshold; at one low enough for it, VIX's ordinary moves trip too.
    dxy = Scenario(
        macro_shocks=(MacroShock(1_704_067_200_000 + 100 * 3_600_000, dxy_pct=2.0, vix_points=0.0),)
    )
    assert walk_trips(dxy, 200) == []
    assert walk_trips(CALM, 200, threshold=0.015) != []


def test_cadence_is_due_by_the_clock_and_when_forgotten() -> None:
    cadence = Cadence()
    assert cadence.due("vpin", 1_000, 5_000)
    assert not cadence.due("vpin", 5_999, 5_000)
    assert cadence.due("vpin", 6_000, 5_000)
    cadence.forget("vpin")
    assert cadence.due("vpin", 6_001, 5_000)
    assert cadence.due("macro", 6_001, 60_000)

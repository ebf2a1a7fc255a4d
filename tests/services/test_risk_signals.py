"""The correlation, VPIN and macro breakers' pure parts and the read cadence, on hand-made series:
correlations checked against `statistics.correlation`, thresholds strictly exceeded, windows by time."""

from __future__ import annotations

import itertools
import math
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
from services.risk.macro import (
    check_macro,
    log_steps,
    robust_spread,
    shock_score,
)
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


HOUR = 3_600_000
WINDOW = 2 * HOUR


def hourly(values: list[float], start: int = 0) -> list[Reading]:
    return [Reading(start + i * HOUR, v) for i, v in enumerate(values)]


STEPS = [0.001, -0.0015, 0.0005, -0.001, 0.002, -0.0005, 0.0012, -0.0008, 0.0003, -0.0018, 0.0009, -0.0002]


def walk(level: float, scale: float, hours: int) -> list[float]:
    """`hours` values from `level`, each step one of STEPS (log changes) times `scale`."""
    values = [level]
    for i in range(hours - 1):
        values.append(values[-1] * math.exp(STEPS[i % len(STEPS)] * scale))
    return values


def spread_of(values: list[float]) -> float:
    """1.4826 x the median absolute deviation of the log steps, computed here by hand."""
    steps = [math.log(b / a) for a, b in itertools.pairwise(values)]
    centre = statistics.median(steps)
    return 1.4826 * statistics.median([abs(x - centre) for x in steps])


def test_the_shock_score_counts_the_windows_move_in_ordinary_moves() -> None:
    calm = walk(100.0, 1.0, 25)  # hours 0..24
    assert robust_spread(log_steps(hourly(calm))) == pytest.approx(spread_of(calm))
    jumped = hourly([*calm, calm[-1] * 1.02])  # a 2% step at hour 25
    now = 25 * HOUR
    score = shock_score(jumped, now, WINDOW)
    assert score is not None
    # the window holds hours 23..25 (two steps); the baseline hours 0..23, up to the window's start
    moved = math.log(calm[24] / calm[23]) + math.log(1.02)
    assert score == pytest.approx(moved / (spread_of(calm[:24]) * math.sqrt(2)))
    assert score > 10
    falling = shock_score(hourly([*calm, calm[-1] * 0.98]), now, WINDOW)
    assert falling is not None
    assert falling < -10


def test_the_shock_score_needs_a_baseline_that_moved() -> None:
    now = 25 * HOUR
    short = hourly([*walk(100.0, 1.0, 12), 105.0], start=13 * HOUR)  # 10 steps before the window
    assert shock_score(short, now, WINDOW) is None
    flat = hourly([100.0] * 25 + [105.0])
    assert shock_score(flat, now, WINDOW) is None  # it never moved: no ordinary move to count in
    assert shock_score(hourly(walk(100.0, 1.0, 24)), 30 * HOUR, WINDOW) is None  # nothing in the window


def test_a_past_shock_in_the_baseline_does_not_mute_the_next() -> None:
    values = walk(100.0, 1.0, 25)
    values[10] *= 1.05  # a 5% spike and back, in the baseline of hour 25
    score = shock_score(hourly([*values, values[-1] * 1.02]), 25 * HOUR, WINDOW)
    assert score is not None
    assert score > 10


def test_macro_trips_on_the_largest_shock_beyond_the_threshold() -> None:
    dxy = walk(104.0, 1.0, 25)  # steps of about 0.1%
    vix = walk(18.0, 20.0, 25)  # steps of about 2%
    calm = {"dxy": hourly([*dxy, dxy[-1]]), "vix": hourly([*vix, vix[-1]])}
    now = 25 * HOUR
    assert check_macro(calm, now, WINDOW, 8.0) is None
    shocked = {**calm, "dxy": hourly([*dxy, dxy[-1] * 1.02])}  # 2%: twenty ordinary DXY moves
    breach = check_macro(shocked, now, WINDOW, 8.0)
    assert breach is not None
    assert breach.breaker is Breaker.MACRO
    assert breach.threshold == 8.0
    assert breach.value > 8.0
    assert breach.message.startswith(f"DXY moved {dxy[-1] * 1.02 / dxy[-2] - 1:+.2%} within 7200000 ms: +")
    assert breach.message.endswith("ordinary moves (limit 8)")
    same_move_in_vix = {**calm, "vix": hourly([*vix, vix[-1] * 1.02])}  # one ordinary VIX move
    assert check_macro(same_move_in_vix, now, WINDOW, 8.0) is None
    assert check_macro(shocked, now, WINDOW, breach.value) is None  # equal is not beyond


def walk_scores(scenario: Scenario, hours: int, seed: int = DEFAULT_SEED) -> dict[str, list[float]]:
    """Each series' shock score (absolute) at each hour of the data service's seeded hourly walk."""
    points: dict[str, list[Reading]] = {"dxy": [], "vix": []}
    scores: dict[str, list[float]] = {"dxy": [], "vix": []}
    for h in range(hours):
        ts = WALK_START + h * HOUR
        for series, known in points.items():
            previous = known[-1].value if known else None
            point = macro_at(series, previous, seed=seed, ts_ms=ts, scenario=scenario)
            known.append(Reading(point.ts_ms, point.value))
            score = shock_score(known, ts, WINDOW)
            scores[series].append(0.0 if score is None else abs(score))
    return scores


WALK_START = 1_704_067_200_000


def test_the_default_threshold_ignores_the_calm_walk_and_catches_either_series_shock() -> None:
    for seed in (DEFAULT_SEED, 3, 9):  # the seeds of the highest calm scores among 12 tried
        calm = walk_scores(CALM, 60 * 24, seed)
        assert max(max(calm["dxy"]), max(calm["vix"])) < 7.0
    at = WALK_START + 100 * HOUR
    for dxy_pct, vix_points, series, above in ((1.0, 0.0, "dxy", 9.0), (0.0, 15.0, "vix", 15.0)):
        shocked = walk_scores(Scenario(macro_shocks=(MacroShock(at, dxy_pct, vix_points),)), 102)
        assert max(shocked[series][:100]) < 7.0
        assert shocked[series][100] > above
    small = walk_scores(Scenario(macro_shocks=(MacroShock(at, 0.0, 5.0),)), 102)
    assert max(small["vix"]) < 8.0  # a 5-point VIX move is not a shock


def test_cadence_is_due_by_the_clock_and_when_forgotten() -> None:
    cadence = Cadence()
    assert cadence.due("vpin", 1_000, 5_000)
    assert not cadence.due("vpin", 5_999, 5_000)
    assert cadence.due("vpin", 6_000, 5_000)
    cadence.forget("vpin")
    assert cadence.due("vpin", 6_001, 5_000)
    assert cadence.due("macro", 6_001, 60_000)

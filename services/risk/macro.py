"""The macro breaker: a DXY or VIX shock, read from market_data.v_macro_reader.

A series' shock is its move over the window measured in its own ordinary moves: the log change from its
oldest to its newest value within the window, over the spread of its step-to-step log changes in the
`BASELINE_WINDOWS` windows before (a robust spread, 1.4826 x the median absolute deviation, so one past
shock does not mute the next), scaled by the square root of the steps in the window. One threshold then
serves both series: a 2% DXY move and a 15-point VIX jump are both many of their ordinary moves, where a
threshold on the relative change that catches the first is crossed by VIX's everyday noise. The risk
service reads the view every `READ_EVERY_MS` by its clock, not on each 30 Hz tick; a tick evaluates what
was last read.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence

import asyncpg

from schemas.risk import Breaker
from services.risk.breakers import Breach, Reading

SERIES = ("dxy", "vix")
"""The series watched."""

READ_EVERY_MS = 60_000
"""How often the view is read: an hourly or daily series changes far more rarely than this."""

BASELINE_WINDOWS = 12
"""How many windows before the current one give a series' ordinary move."""

MIN_BASELINE_STEPS = 12
"""Fewer step changes than this in the baseline: too little history to say what is ordinary."""

MAD_TO_SIGMA = 1.4826
"""The median absolute deviation of a normal sample times this estimates its standard deviation."""

POINTS = (
    "SELECT series, ts_ms, value FROM market_data.v_macro_reader"
    " WHERE series = ANY($1::text[]) AND ts_ms >= $2 AND ts_ms <= $3 ORDER BY series, ts_ms"
)


def read_since(now_ms: int, window_ms: int) -> int:
    """The oldest time the breaker needs at `now_ms`: the window and its baseline."""
    return now_ms - window_ms * (BASELINE_WINDOWS + 1)


async def macro_points(
    conn: asyncpg.Connection | asyncpg.Pool, since_ms: int, until_ms: int
) -> dict[str, list[Reading]]:
    """Each watched series' values with `since_ms <= ts_ms <= until_ms`, oldest first."""
    out: dict[str, list[Reading]] = {}
    for r in await conn.fetch(POINTS, list(SERIES), since_ms, until_ms):
        out.setdefault(r["series"], []).append(Reading(int(r["ts_ms"]), float(r["value"])))
    return out


def log_steps(points: Sequence[Reading]) -> list[float]:
    """The log change between each two consecutive values (a non-positive value ends nothing: skipped)."""
    return [math.log(b.value / a.value) for a, b in itertools.pairwise(points) if a.value > 0 and b.value > 0]


def robust_spread(steps: Sequence[float]) -> float:
    """1.4826 x the median absolute deviation of `steps`: their standard deviation were they normal."""
    centre = statistics.median(steps)
    return MAD_TO_SIGMA * statistics.median(abs(s - centre) for s in steps)


def shock_score(points: Sequence[Reading], now_ms: int, window_ms: int) -> float | None:
    """The window's log change in ordinary moves (signed); None without a move in the window, without
    enough baseline, or with a baseline that never moved."""
    start = now_ms - window_ms
    window = [p for p in points if start <= p.ts_ms <= now_ms]
    baseline = [p for p in points if read_since(now_ms, window_ms) <= p.ts_ms <= start]
    moved = log_steps(window)
    steps = log_steps(baseline)
    if not moved or len(steps) < MIN_BASELINE_STEPS:
        return None
    spread = robust_spread(steps)
    if spread == 0:
        return None
    return sum(moved) / (spread * math.sqrt(len(moved)))


def check_macro(
    points: Mapping[str, Sequence[Reading]], now_ms: int, window_ms: int, threshold: float
) -> Breach | None:
    """A macro breach when a series moved by more than `threshold` of its ordinary moves (either way)
    within the window before `now_ms`; the largest shock is named."""
    shocks: list[tuple[float, str, float, float]] = []
    for series in SERIES:
        known = points.get(series, ())
        score = shock_score(known, now_ms, window_ms)
        if score is not None:
            window = [p for p in known if now_ms - window_ms <= p.ts_ms <= now_ms]
            change = window[-1].value / window[0].value - 1.0
            shocks.append((abs(score), series, score, change))
    if not shocks:
        return None
    size, series, score, change = max(shocks)
    if size <= threshold:
        return None
    message = (
        f"{series.upper()} moved {change:+.2%} within {window_ms} ms: {score:+.1f} ordinary moves"
        f" (limit {threshold:g})"
    )
    return Breach(Breaker.MACRO, size, threshold, message)

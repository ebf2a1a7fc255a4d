"""The macro breaker: a DXY or VIX shock, read from market_data.v_macro_reader.

The shock of a series is its relative change over the window: its newest value within the window over
its oldest one there, minus one. The series are daily (FRED), so the risk service reads the view every
`READ_EVERY_MS` by its clock, not on each 30 Hz tick; a tick evaluates what was last read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import asyncpg

from schemas.risk import Breaker
from services.risk.breakers import Breach, Reading

SERIES = ("dxy", "vix")
"""The series watched."""

READ_EVERY_MS = 60_000
"""How often the view is read: a daily series changes far more rarely than this."""

POINTS = (
    "SELECT series, ts_ms, value FROM market_data.v_macro_reader"
    " WHERE series = ANY($1::text[]) AND ts_ms >= $2 AND ts_ms <= $3 ORDER BY series, ts_ms"
)


async def macro_points(
    conn: asyncpg.Connection | asyncpg.Pool, since_ms: int, until_ms: int
) -> dict[str, list[Reading]]:
    """Each watched series' values with `since_ms <= ts_ms <= until_ms`, oldest first."""
    out: dict[str, list[Reading]] = {}
    for r in await conn.fetch(POINTS, list(SERIES), since_ms, until_ms):
        out.setdefault(r["series"], []).append(Reading(int(r["ts_ms"]), float(r["value"])))
    return out


def relative_change(points: Sequence[Reading]) -> float | None:
    """The newest value over the oldest, minus one; None with fewer than two points or a base of 0."""
    if len(points) < 2 or points[0].value == 0:
        return None
    return points[-1].value / points[0].value - 1.0


def check_macro(
    points: Mapping[str, Sequence[Reading]], now_ms: int, window_ms: int, threshold: float
) -> Breach | None:
    """A macro breach when a series moved by more than `threshold` (either way, as a fraction) within
    the window before `now_ms`; the largest move is named."""
    start = now_ms - window_ms
    moves: list[tuple[float, str, float]] = []
    for series in SERIES:
        change = relative_change([p for p in points.get(series, ()) if start <= p.ts_ms <= now_ms])
        if change is not None:
            moves.append((abs(change), series, change))
    if not moves:
        return None
    size, series, change = max(moves)
    if size <= threshold:
        return None
    message = f"{series.upper()} moved {change:+.2%} within {window_ms} ms (limit {threshold:.2%})"
    return Breach(Breaker.MACRO, size, threshold, message)

"""The VPIN breaker: the latest VPIN of a traded symbol, read from market_data.v_metrics_reader.

VPIN (volume-synchronized probability of informed trading) is computed and stored by the data side per
volume bucket, minutes apart, so the risk service reads the view every `READ_EVERY_MS` by its clock, not on
each 30 Hz tick; a tick compares what was last read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import asyncpg

from schemas.risk import Breaker
from services.risk.breakers import Breach, Reading

READ_EVERY_MS = 5_000
"""How often the view is read: far more often than a VPIN bucket closes, far less than a tick."""

LATEST = (
    "SELECT DISTINCT ON (symbol) symbol, ts_ms, value FROM market_data.v_metrics_reader"
    " WHERE metric = 'vpin' AND symbol = ANY($1::text[]) AND ts_ms >= $2 AND ts_ms <= $3"
    " ORDER BY symbol, ts_ms DESC"
)


async def latest_vpin(
    conn: asyncpg.Connection | asyncpg.Pool, symbols: Iterable[str], since_ms: int, until_ms: int
) -> dict[str, Reading]:
    """Each symbol's newest VPIN with `since_ms <= ts_ms <= until_ms` (symbols without one are absent)."""
    rows = await conn.fetch(LATEST, sorted(set(symbols)), since_ms, until_ms)
    return {r["symbol"]: Reading(int(r["ts_ms"]), float(r["value"])) for r in rows}


def check_vpin(latest: Mapping[str, Reading], now_ms: int, window_ms: int, threshold: float) -> Breach | None:
    """A VPIN breach when a symbol's latest VPIN within the window before `now_ms` exceeds `threshold`
    (the highest such symbol is named)."""
    start = now_ms - window_ms
    inside = {s: r for s, r in latest.items() if start <= r.ts_ms <= now_ms}
    if not inside:
        return None
    symbol, worst = max(inside.items(), key=lambda item: (item[1].value, item[0]))
    if worst.value <= threshold:
        return None
    message = f"{symbol} VPIN {worst.value:.3f} at {worst.ts_ms} ms (limit {threshold:g})"
    return Breach(Breaker.VPIN, worst.value, threshold, message)

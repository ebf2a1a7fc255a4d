"""Higher time frames from 1m candles with polars: epoch-aligned buckets, complete ones only.

open is the first open, high the max, low the min, close the last close; volumes and trades sum.
A bucket missing any of its minutes is left out: its open or close would be a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg
import polars as pl

from schemas.common import Timeframe
from services.data.feed import MINUTE_MS

TIMEFRAME_MS: dict[Timeframe, int] = {
    Timeframe.M1: MINUTE_MS,
    Timeframe.M5: 5 * MINUTE_MS,
    Timeframe.M15: 15 * MINUTE_MS,
    Timeframe.H1: 60 * MINUTE_MS,
    Timeframe.H4: 240 * MINUTE_MS,
    Timeframe.D1: 1440 * MINUTE_MS,
}

COLUMNS = (
    "symbol",
    "open_time_ms",
    "close_time_ms",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "trades",
)


def frame(rows: Iterable[Mapping[str, Any] | asyncpg.Record]) -> pl.DataFrame:
    """1m rows (dicts or asyncpg records with the kline columns) as a frame."""
    return pl.DataFrame([{c: row[c] for c in COLUMNS} for row in rows], infer_schema_length=None)


def closing(open_time_ms: int, tf: Timeframe) -> int | None:
    """The open time of the `tf` bucket that the 1m candle opening at `open_time_ms` completes, if any."""
    size = TIMEFRAME_MS[tf]
    end = open_time_ms + MINUTE_MS
    return end - size if end % size == 0 else None


def aggregate(minutes: pl.DataFrame, tf: Timeframe) -> pl.DataFrame:
    """The complete `tf` candles in `minutes` (1m rows of any symbols), ordered by symbol and time."""
    size = TIMEFRAME_MS[tf]
    if minutes.is_empty():
        return minutes.select(COLUMNS)
    return (
        minutes.sort("symbol", "open_time_ms")
        .with_columns(bucket=pl.col("open_time_ms") - pl.col("open_time_ms") % size)
        .group_by("symbol", "bucket", maintain_order=True)
        .agg(
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
            pl.col("quote_volume").sum(),
            pl.col("trades").sum(),
            pl.col("open_time_ms").n_unique().alias("minutes"),
        )
        .filter(pl.col("minutes") == size // MINUTE_MS)
        .select(
            "symbol",
            pl.col("bucket").alias("open_time_ms"),
            (pl.col("bucket") + size - 1).alias("close_time_ms"),
            "open",
            "high",
            "low",
            "close",
            "volume",
            "quote_volume",
            "trades",
        )
    )

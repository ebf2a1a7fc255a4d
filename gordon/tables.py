"""What `gordon tables` shows: one row per table of the market_data, trading and paper schemas, found in the
catalog (a table added later appears by itself), with its row count up to a cap and its newest time.

It reads as gordon_drift_reader, which may SELECT every table and view and write nothing. The time
column of a table is picked by one rule (see `time_column`); its newest value and how old that is are
measured against the database server's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import polars as pl

SCHEMAS = ("market_data", "trading", "paper")
"""The schemas shown, in this order."""
DEFAULT_CAP = 1_000_000
"""Counting stops here: a row count is exact up to the cap, else "at least the cap"."""
DURATION_SUFFIXES = ("window_ms",)
"""Names of `_ms` columns that hold a length of time, not a point in time (never a table's time)."""

CATALOG = """
SELECT n.nspname AS schema, c.relname AS table, has_table_privilege(c.oid, 'SELECT') AS readable,
    coalesce(
        (SELECT array_agg(a.attname ORDER BY k.ord)
           FROM pg_index i CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
          WHERE i.indrelid = c.oid AND i.indisprimary AND a.atttypid = 'bigint'::regtype),
        '{}') AS key_bigints,
    coalesce(
        (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            AND a.atttypid = 'bigint'::regtype),
        '{}') AS bigints
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY array_position($1::text[], n.nspname::text), c.relname
"""
"""Every table (partitioned ones once, not their partitions) of the schemas, with its BIGINT columns."""
NOW_MS = "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint"


@dataclass(frozen=True)
class TableRow:
    """One table: `rows` is exact when `exact`, else at least the cap (None: not readable);
    `newest_ms` is the largest value of `time_column` and `age_s` how long before the server's now."""

    schema: str
    table: str
    rows: int | None
    exact: bool
    time_column: str | None
    newest_ms: int | None
    newest: str | None
    age_s: float | None
    note: str


def time_column(key_bigints: Sequence[str], bigints: Sequence[str]) -> str | None:
    """A table's time column: the first BIGINT column of its primary key whose name ends in `_ms`;
    else a BIGINT column named `ts_ms`; else the first BIGINT column ending in `_ms` in column order;
    a duration (DURATION_SUFFIXES) is never one. None when no column qualifies."""

    def is_time(name: str) -> bool:
        return name.endswith("_ms") and not name.endswith(DURATION_SUFFIXES)

    for name in key_bigints:
        if is_time(name):
            return name
    if "ts_ms" in bigints:
        return "ts_ms"
    return next((name for name in bigints if is_time(name)), None)


def quoted(*names: str) -> str:
    """A qualified SQL identifier of catalog names."""
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


async def survey(
    conn: asyncpg.Connection, schemas: Sequence[str] = SCHEMAS, cap: int = DEFAULT_CAP
) -> list[TableRow]:
    """Every table of `schemas`, in schema order then by name, counted up to `cap` rows."""
    found = []
    now_ms = int(await conn.fetchval(NOW_MS))
    for entry in await conn.fetch(CATALOG, list(schemas)):
        schema, table = entry["schema"], entry["table"]
        column = time_column(entry["key_bigints"], entry["bigints"])
        if not entry["readable"]:
            note = f"not readable by {await conn.fetchval('SELECT current_user')}"
            found.append(TableRow(schema, table, None, False, column, None, None, None, note))
            continue
        name = quoted(schema, table)
        count = int(await conn.fetchval(f"SELECT count(*) FROM (SELECT FROM {name} LIMIT $1) AS s", cap + 1))
        newest = None if column is None else await conn.fetchval(f"SELECT max({quoted(column)}) FROM {name}")
        exact = count <= cap
        found.append(
            TableRow(
                schema,
                table,
                min(count, cap),
                exact,
                column,
                newest,
                None if newest is None else _iso(newest),
                None if newest is None else (now_ms - newest) / 1000,
                "" if exact else f"counted up to {cap}",
            )
        )
    return found


def frame(rows: Sequence[TableRow]) -> pl.DataFrame:
    """The rows as a polars DataFrame, one column per TableRow field."""
    schema: dict[str, Any] = {
        "schema": pl.String,
        "table": pl.String,
        "rows": pl.Int64,
        "exact": pl.Boolean,
        "time_column": pl.String,
        "newest_ms": pl.Int64,
        "newest": pl.String,
        "age_s": pl.Float64,
        "note": pl.String,
    }
    return pl.DataFrame([asdict(row) for row in rows], schema=schema, orient="row")


def text(rows: Sequence[TableRow]) -> str:
    """A table for a terminal: every row, counts past the cap as `N+`, ages as `3d 04:05:06`."""
    shown = frame(rows).select(
        "schema",
        "table",
        pl.when(pl.col("exact"))
        .then(pl.col("rows").cast(pl.String))
        .otherwise(pl.col("rows").cast(pl.String) + "+")
        .fill_null("-")
        .alias("rows"),
        pl.col("time_column").fill_null("-"),
        pl.col("newest").fill_null("-"),
        pl.col("age_s").map_elements(_age, return_dtype=pl.String).fill_null("-").alias("age"),
        "note",
    )
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_formatting="ASCII_MARKDOWN",
        fmt_str_lengths=80,
        tbl_width_chars=200,
    ):
        return str(shown)


def _iso(ms: int) -> str | None:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):  # not a time a calendar can show
        return None


def _age(seconds: float) -> str:
    sign, whole = ("-" if seconds < 0 else ""), int(abs(seconds))
    days, rest = divmod(whole, 86_400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{sign}{days}d {clock}" if days else f"{sign}{clock}"

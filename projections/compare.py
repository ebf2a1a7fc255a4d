"""Compare two generations of a projection's table: a hash in SQL, and row differences with polars.

Rows are compared as PostgreSQL prints them (`t::text`), so `0.30` and `0.3` differ: byte for byte.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import asyncpg
import polars as pl

from projections.base import Projection

REBUILT = "__rebuilt"


def key_columns(projection: Projection[Any, Any]) -> list[str]:
    """The key columns named by `order_by` (the table's primary key)."""
    return [c.strip() for c in projection.order_by.split(",") if c.strip()]


async def table_hash(conn: asyncpg.Connection, schema: str, projection: Projection[Any, Any]) -> str:
    """Row count and md5 over every row's text in key order: equal hashes mean equal tables."""
    row = await conn.fetchrow(
        f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY {projection.order_by})), '') "
        f"FROM {schema}.{projection.view} t"
    )
    assert row is not None
    return f"{row[0]}:{row[1]}"


async def differing_keys(
    conn: asyncpg.Connection, a: str, b: str, projection: Projection[Any, Any], limit: int = 20
) -> tuple[int, list[str]]:
    """How many keys differ between schemas `a` and `b` (a row changed, or on one side only), and the
    first `limit` of them as text."""
    keys = ", ".join(key_columns(projection))
    text = " || ',' || ".join(f"{k}::text" for k in key_columns(projection))
    rows = await conn.fetch(
        f"""SELECT {text} AS key, count(*) OVER () AS n FROM
              (SELECT {keys}, md5(t::text) AS h FROM {a}.{projection.view} t) x
              FULL JOIN (SELECT {keys}, md5(t::text) AS h FROM {b}.{projection.view} t) y USING ({keys})
            WHERE x.h IS DISTINCT FROM y.h ORDER BY {keys} LIMIT {int(limit)}"""
    )
    return (int(rows[0]["n"]) if rows else 0), [str(r["key"]) for r in rows]


async def load_frame(conn: asyncpg.Connection, schema: str, projection: Projection[Any, Any]) -> pl.DataFrame:
    """The table as text columns (COPY text format), sorted by key."""
    table = f"{schema}.{projection.view}"
    columns = [
        str(r[0])
        for r in await conn.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            table,
        )
    ]
    buffer = io.BytesIO()
    await conn.copy_from_query(
        f"SELECT * FROM {table} ORDER BY {projection.order_by}", output=buffer, format="text"
    )
    schema_of = dict.fromkeys(columns, pl.String)
    if not buffer.getvalue():
        return pl.DataFrame(schema=schema_of)
    buffer.seek(0)
    return pl.read_csv(
        buffer,
        separator="\t",
        has_header=False,
        new_columns=columns,
        schema=schema_of,
        null_values="\\N",
        quote_char=None,
    )


@dataclass(frozen=True)
class Difference:
    """One key whose rows differ: the differing columns' values on each side (None: no row there)."""

    key: dict[str, str | None]
    live: dict[str, str | None] | None
    rebuilt: dict[str, str | None] | None

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        if self.live is None:
            return f"{key}: only in the rebuilt generation"
        if self.rebuilt is None:
            return f"{key}: only in the live generation"
        changes = "; ".join(f"{c}: live {self.live[c]!r} rebuilt {self.rebuilt[c]!r}" for c in self.live)
        return f"{key}: {changes}"


def differences(live: pl.DataFrame, rebuilt: pl.DataFrame, keys: list[str]) -> list[Difference]:
    """Every key whose row is missing on one side or differs in some column, in key order."""
    if live.sort(keys).equals(rebuilt.sort(keys)):
        return []
    others = [c for c in live.columns if c not in keys]
    joined = live.with_columns(pl.lit(True).alias("_live")).join(
        rebuilt.with_columns(pl.lit(True).alias("_rebuilt")),
        on=keys,
        how="full",
        coalesce=True,
        suffix=REBUILT,
        nulls_equal=True,
    )
    changed = [pl.col(c).ne_missing(pl.col(c + REBUILT)) for c in others]
    missing = pl.col("_live").is_null() | pl.col("_rebuilt").is_null()
    found = joined.filter(missing | pl.any_horizontal(changed) if changed else missing).sort(keys)
    out = []
    for row in found.iter_rows(named=True):
        key = {k: row[k] for k in keys}
        if row["_live"] is None or row["_rebuilt"] is None:
            side = {c: row[c] for c in others} if row["_live"] else {c: row[c + REBUILT] for c in others}
            out.append(Difference(key, side if row["_live"] else None, side if row["_rebuilt"] else None))
            continue
        cols = [c for c in others if row[c] != row[c + REBUILT]]
        out.append(Difference(key, {c: row[c] for c in cols}, {c: row[c + REBUILT] for c in cols}))
    return out

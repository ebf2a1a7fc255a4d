"""The tracking row of a generation: last applied sequence, last consumed sequence, and any halt."""

from __future__ import annotations

import time
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Tracking:
    """`last_seq`: every event at or below it is applied; `processed_seq`: the last one consumed."""

    last_seq: int
    processed_seq: int
    halted_seq: int | None
    halted_reason: str | None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def read(conn: asyncpg.Connection, schema: str) -> Tracking:
    row = await conn.fetchrow(
        f"SELECT last_seq, processed_seq, halted_seq, halted_reason FROM {schema}.tracking WHERE id = 1"
    )
    if row is None:
        raise LookupError(f"{schema}.tracking has no row")
    return Tracking(row[0], row[1], row[2], row[3])


async def advance(conn: asyncpg.Connection, schema: str, last_seq: int, processed_seq: int) -> None:
    """Move the tracking row (call in the transaction that wrote the view rows)."""
    await conn.execute(
        f"UPDATE {schema}.tracking SET last_seq = greatest(last_seq, $1), processed_seq = $2, "
        "updated_ms = $3 WHERE id = 1",
        last_seq,
        processed_seq,
        now_ms(),
    )


async def halt(conn: asyncpg.Connection, schema: str, seq: int, reason: str) -> None:
    """Record why the projection stopped, and where."""
    await conn.execute(
        f"UPDATE {schema}.tracking SET halted_seq = $1, halted_reason = $2, updated_ms = $3 WHERE id = 1",
        seq,
        reason[:2000],
        now_ms(),
    )


async def clear_halt(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(f"UPDATE {schema}.tracking SET halted_seq = NULL, halted_reason = NULL WHERE id = 1")

"""The drain's SQL over `bus.outbox` and `bus.drain_state`: fetch in id order, mark, quarantine, forget."""

from __future__ import annotations

import time
from dataclasses import dataclass

import asyncpg

FETCH = """
SELECT id, event_id::text, subject, payload, headers::text, schema_name, schema_version, producer, trace_id
FROM bus.outbox
WHERE published_at_ms IS NULL AND quarantined_at_ms IS NULL AND NOT (id = ANY($2::bigint[]))
ORDER BY id
LIMIT $1
"""

MARK = """
UPDATE bus.outbox SET published_at_ms = $2
WHERE id = ANY($1::bigint[]) AND published_at_ms IS NULL
"""

REJECTED = """
UPDATE bus.outbox SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts
"""

QUARANTINE = """
UPDATE bus.outbox SET quarantined_at_ms = $2, quarantine_reason = $3 WHERE id = $1
"""

FORGET = """
DELETE FROM bus.outbox WHERE id IN (
    SELECT id FROM bus.outbox WHERE published_at_ms < $1 ORDER BY published_at_ms LIMIT $2
)
"""

SLEEPING = "UPDATE bus.drain_state SET sleeping = $1, leader = $2, changed_at_ms = $3 WHERE id = 1"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Row:
    """One unpublished outbox row, as the drain sends it."""

    id: int
    event_id: str
    subject: str
    payload: bytes
    extra_headers: str
    schema_name: str
    schema_version: int
    producer: str
    trace_id: str | None


async def fetch(conn: asyncpg.Connection, limit: int, exclude: list[int]) -> list[Row]:
    """Up to `limit` committed, unpublished rows in id order, skipping those in flight."""
    records = await conn.fetch(FETCH, limit, exclude)
    return [Row(r[0], str(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in records]


async def mark_published(conn: asyncpg.Connection, ids: list[int]) -> None:
    """Mark rows published (an asynchronous commit: a lost mark only means a deduplicated resend)."""
    async with conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit = off")
        await conn.execute(MARK, ids, now_ms())


async def record_rejection(conn: asyncpg.Connection, row_id: int) -> int:
    """Count one server rejection of a row; returns how many it has had."""
    value = await conn.fetchval(REJECTED, row_id)
    return int(value or 0)


async def quarantine(conn: asyncpg.Connection, row_id: int, reason: str) -> None:
    """Set a row aside with its reason: it will never be published, and never blocks the drain."""
    await conn.execute(QUARANTINE, row_id, now_ms(), reason[:2000])


async def forget_published(conn: asyncpg.Connection, cutoff_ms: int, batch: int) -> int:
    """Delete up to `batch` rows published before `cutoff_ms`; returns how many went."""
    status = await conn.execute(FORGET, cutoff_ms, batch)
    return int(status.split()[-1])


async def set_sleeping(conn: asyncpg.Connection, sleeping: bool, leader: str) -> None:
    """Tell writers whether to NOTIFY (only while the drain sleeps; NOTIFY serialises commits)."""
    async with conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit = off")
        await conn.execute(SLEEPING, sleeping, leader, now_ms())

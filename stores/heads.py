"""Aggregate heads: the row lock that serialises writers of one aggregate, and its last version."""

from __future__ import annotations

import asyncpg


async def lock(tx: asyncpg.Connection, kind: str, aggregate_id: str) -> int:
    """Lock the aggregate's head row (creating it at version 0) and return its last written version."""
    await tx.execute(
        "INSERT INTO trading.aggregate_heads (kind, id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        kind,
        aggregate_id,
    )
    version = await tx.fetchval(
        "SELECT version FROM trading.aggregate_heads WHERE kind = $1 AND id = $2 FOR UPDATE",
        kind,
        aggregate_id,
    )
    return int(version)


async def advance(tx: asyncpg.Connection, kind: str, aggregate_id: str, version: int) -> None:
    """Record the aggregate's new last version (the head must be locked by this transaction)."""
    await tx.execute(
        "UPDATE trading.aggregate_heads SET version = $3 WHERE kind = $1 AND id = $2",
        kind,
        aggregate_id,
        version,
    )

"""Inbox idempotency: a handler does its effects only the first time it sees an event.

`first_time` inserts `(consumer, msg_id)` into `bus.inbox` in the handler's own transaction, so the
record and the effects commit (or roll back) together; a redelivery, a replay from the dead letters or
a copy that arrived after JetStream's duplicate window finds the row and is skipped.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

INSERT = (
    "INSERT INTO bus.inbox (consumer, msg_id) VALUES ($1, $2) "
    "ON CONFLICT (consumer, msg_id) DO NOTHING RETURNING 1"
)

FORGET = """
DELETE FROM bus.inbox WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM bus.inbox WHERE processed_at_ms < $1 LIMIT $2
))
"""


async def first_time(tx: asyncpg.Connection, consumer: str, msg_id: UUID) -> bool:
    """Record that `consumer` handles event `msg_id`; True when this is the first time.

    Call it inside the transaction that does the effects, and do them only on True. `msg_id` is the
    event's `event_id` (kept by dead-letter replays, which change the Nats-Msg-Id). A concurrent
    handler of the same event waits on the row lock and then gets False once the first commits.
    """
    if not tx.is_in_transaction():
        raise RuntimeError("first_time must run inside the handler's transaction")
    return await tx.fetchval(INSERT, consumer, msg_id) is not None


async def forget_before(conn: asyncpg.Connection, cutoff_ms: int, batch: int = 10_000) -> int:
    """Delete inbox rows processed before `cutoff_ms`, `batch` rows per statement; returns the count.

    Pick a cutoff older than anything that can still come back: the live stream's age limit and
    the dead-letter stream's (a replay of an older event would be handled again).
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    total = 0
    while True:
        status = await conn.execute(FORGET, cutoff_ms, batch)
        deleted = int(status.rsplit(" ", 1)[-1])
        total += deleted
        if deleted < batch:
            return total

"""A bot's lifecycle log (`trading.bot_events`), written in the transaction of the change it records:
'started' and 'stopped' by the bot service with its runs, 'paused', 'resumed' and 'flattened' by the
executor as it applies risk's commands."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from registry.ids import uuid7


class BotEventKind(enum.StrEnum):
    """The kinds trading.bot_events accepts (its CHECK)."""

    STARTED = "started"
    STOPPED = "stopped"
    PAUSED = "paused"
    RESUMED = "resumed"
    FLATTENED = "flattened"


INSERT = """
INSERT INTO trading.bot_events (id, bot_id, run_id, kind, detail, ts_ms)
SELECT id, bot_id, run_id, $4, $5, $6
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS e (id, bot_id, run_id)
"""
RUNNING = "SELECT bot_id, id FROM trading.runs WHERE status = 'running' ORDER BY bot_id"


async def record(
    conn: asyncpg.Connection,
    kind: BotEventKind,
    runs: Sequence[tuple[UUID, UUID | None]],
    detail: str,
    ts_ms: int,
) -> None:
    """One `kind` event per (bot id, run id or None) of `runs`, all with `detail`."""
    if not runs:
        return
    ids = [uuid7(ts_ms) for _ in runs]
    bots = [bot for bot, _ in runs]
    run_ids = [run for _, run in runs]
    await conn.execute(INSERT, ids, bots, run_ids, kind.value, detail, ts_ms)


async def running_runs(conn: asyncpg.Connection) -> list[tuple[UUID, UUID | None]]:
    """The (bot id, run id) of every running run: the bots a command to all bots reaches."""
    return [(r["bot_id"], r["id"]) for r in await conn.fetch(RUNNING)]

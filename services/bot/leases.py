"""A bot's lease: a session advisory lock per bot (`trading.bot_leases` says who holds it and for which
run), so two bot processes never run the same bot.

The locks live on one dedicated connection of the bot service: they die with it, so a crashed process
frees its bots, and its row (left behind) is taken over by the next process that gets the lock. The key
differs from the runner's per-kline transaction lock (services/bot/runner.py), which it must not block.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg

from registry.ids import uuid7

log = logging.getLogger(__name__)

KEY = "hashtextextended('gordon-bot-lease-' || $1::text, 0)"
TRY_LOCK = f"SELECT pg_try_advisory_lock({KEY})"
CLAIM = """
INSERT INTO trading.bot_leases (bot_id, holder, acquired_ms, renewed_ms, run_id)
SELECT bot_id, $3, $4, $4, run_id FROM unnest($1::uuid[], $2::uuid[]) AS l (bot_id, run_id)
ON CONFLICT (bot_id) DO UPDATE
SET holder = EXCLUDED.holder, acquired_ms = EXCLUDED.acquired_ms, renewed_ms = EXCLUDED.renewed_ms,
    run_id = EXCLUDED.run_id
"""
RENEW = (
    "UPDATE trading.bot_leases SET renewed_ms = greatest(renewed_ms, $3) WHERE bot_id = $1 AND holder = $2"
)
RELEASE = "DELETE FROM trading.bot_leases WHERE bot_id = ANY($1::uuid[]) AND holder = $2"


def holder_name() -> str:
    """This process (host and pid) and a per-service suffix: two services in one process differ too."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid7().hex[-8:]}"


class Leases:
    """The advisory locks of the bots this process runs, on their own connection."""

    def __init__(self, dsn: str, holder: str | None = None) -> None:
        self.dsn = dsn
        self.holder = holder or holder_name()
        self.conn: asyncpg.Connection | None = None
        self.held: list[UUID] = []

    async def take(self, bot_ids: Sequence[UUID]) -> list[UUID]:
        """Lock each bot nobody else runs; returns those now held (the others are logged and skipped)."""
        if self.conn is None or self.conn.is_closed():
            self.conn = await asyncpg.connect(
                self.dsn,
                server_settings={
                    "application_name": "gordon-bot-leases",
                    "tcp_keepalives_idle": "5",
                    "tcp_keepalives_interval": "2",
                    "tcp_keepalives_count": "3",
                },
            )
        for bot_id in bot_ids:
            if bot_id in self.held:
                continue
            if await self.conn.fetchval(TRY_LOCK, str(bot_id)):
                self.held.append(bot_id)
            else:
                log.warning("bot %s is leased by another process: not running it here", bot_id)
        return list(self.held)

    async def claim(self, conn: asyncpg.Connection, runs: Mapping[UUID, UUID], now_ms: int) -> None:
        """Write (or take over) the lease rows of the held bots with their runs, in `conn`'s transaction."""
        await conn.execute(CLAIM, list(runs), list(runs.values()), self.holder, now_ms)

    async def renew(self, conn: asyncpg.Connection, bot_id: UUID, now_ms: int) -> None:
        """Record that this holder is still running `bot_id` (in the kline's transaction)."""
        await conn.execute(RENEW, bot_id, self.holder, now_ms)

    async def remove(self, conn: asyncpg.Connection) -> None:
        """Delete this holder's rows (a clean stop), before `release` frees the locks."""
        await conn.execute(RELEASE, self.held, self.holder)

    async def release(self) -> None:
        """Free every lock by closing their connection (also fine when it is already gone)."""
        conn, self.conn, self.held = self.conn, None, []
        if conn is not None and not conn.is_closed():
            try:
                async with asyncio.timeout(2.0):
                    await conn.close()
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()

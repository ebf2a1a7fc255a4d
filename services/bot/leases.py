"""A bot's lease: a session advisory lock per bot (`trading.bot_leases` says who holds it and for which
run), so two bot processes never run the same bot.

The locks live on one dedicated connection of the bot service: they die with it, so a crashed process
frees its bots, and its row (left behind) is taken over by the next process that gets the lock. The key
differs from the runner's per-kline transaction lock (services/bot/runner.py), which it must not block.
The service's readiness check `leases` fails once the lock connection is lost.
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
from services.readiness import Failed

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
HELD = (
    "SELECT count(*) FROM pg_catalog.pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' "
    "AND granted"
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

    async def take(self, bot_ids: Sequence[UUID], wait_s: float = 0.0) -> list[UUID]:
        """Lock each bot nobody else runs, retrying for up to `wait_s` (a crashed holder's backend frees
        its locks a moment after its connection died); returns those held, the others logged."""
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
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            for bot_id in bot_ids:
                if bot_id not in self.held and await self.conn.fetchval(TRY_LOCK, str(bot_id)):
                    self.held.append(bot_id)
            missing = [b for b in bot_ids if b not in self.held]
            if not missing or asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(0.1)
        for bot_id in missing:
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

    async def check(self) -> str:
        """Readiness: the lock connection still answers and holds every lease taken. A lost connection
        (a Postgres restart, a partition) fails it for good: the locks are gone, a restart retakes them."""
        if not self.held:
            return "no bot leased"
        if self.conn is None or self.conn.is_closed():
            raise Failed(f"the lease connection is gone: {len(self.held)} bot lease(s) lost")
        held = int(await self.conn.fetchval(HELD))
        if held < len(self.held):
            raise Failed(f"{held} of {len(self.held)} bot lease lock(s) held")
        return f"{held} bot lease(s) held by {self.holder}"

    async def release(self) -> None:
        """Free every lock, then close their connection (also fine when it is already gone). Unlocking
        first frees them when this returns: a closed connection's backend lets go a moment later."""
        conn, self.conn, self.held = self.conn, None, []
        if conn is not None and not conn.is_closed():
            try:
                async with asyncio.timeout(2.0):
                    await conn.execute("SELECT pg_advisory_unlock_all()")
                    await conn.close()
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()

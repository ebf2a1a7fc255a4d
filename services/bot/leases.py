"""A bot's lease: a session advisory lock per bot (`trading.bot_leases` says who holds it and for which
run), so two bot processes never run the same bot.

The locks live on one dedicated connection of the bot service: they die with it, so a crashed process
frees its bots, and its row (left behind) is taken over by the next process that gets the lock. The key
differs from the runner's per-kline transaction lock (services/bot/runner.py), which it must not block.

The row, not the lock, fences the writes: each kline's transaction first renews the row where this
process is the holder, and a process that took the bot over has rewritten the holder, so the stale
process's transaction fails (`LeaseLost`) and rolls back before it writes anything. A lost lock
connection (a Postgres restart, a partition) is reopened by `retake`, which the service calls on a timer:
it retakes each lock, says which rows another holder wrote meanwhile (the service claims them again:
that holder has no lock, so it does not run the bot) and gives up the bots whose lock another process
holds. The service's readiness check `leases` fails while a lock is not held and names each bot given up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from registry.ids import uuid7
from services.readiness import Failed
from settings.connections import CONNECTION_ERRORS, close_quietly

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
HOLDER = "SELECT holder FROM trading.bot_leases WHERE bot_id = $1"
UNLOCK = f"SELECT pg_advisory_unlock({KEY})"


class LeaseLost(RuntimeError):
    """Another process runs the bot now: this process's transaction for it must not commit."""


@dataclass
class Retaken:
    """What `Leases.retake` found: bots locked again whose rows must be claimed again, bots given up."""

    reclaim: list[UUID] = field(default_factory=list)
    given_up: list[UUID] = field(default_factory=list)


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
        self.lost: dict[UUID, str] = {}
        """The bots given up after the lock connection was lost, and why."""

    async def take(self, bot_ids: Sequence[UUID], wait_s: float = 0.0) -> list[UUID]:
        """Lock each bot nobody else runs, retrying for up to `wait_s` (a crashed holder's backend frees
        its locks a moment after its connection died); returns those held, the others logged."""
        if self.conn is None or self.conn.is_closed():
            self.conn = await self._connect()
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

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.dsn,
            timeout=5.0,
            server_settings={
                "application_name": "gordon-bot-leases",
                "tcp_keepalives_idle": "5",
                "tcp_keepalives_interval": "2",
                "tcp_keepalives_count": "3",
            },
        )

    async def claim(self, conn: asyncpg.Connection, runs: Mapping[UUID, UUID], now_ms: int) -> None:
        """Write (or take over) the lease rows of the held bots with their runs, in `conn`'s transaction."""
        await conn.execute(CLAIM, list(runs), list(runs.values()), self.holder, now_ms)

    async def renew(self, conn: asyncpg.Connection, bot_id: UUID, now_ms: int) -> None:
        """Record that this holder is still running `bot_id`, first in the kline's transaction (its row
        lock orders it after a takeover's claim); raises `LeaseLost` when the row names another holder."""
        if bot_id in self.lost:
            raise LeaseLost(f"bot {bot_id} was given up by {self.holder}: {self.lost[bot_id]}")
        renewed = await conn.execute(RENEW, bot_id, self.holder, now_ms)
        if renewed.split()[-1] == "0":
            holder = await conn.fetchval(HOLDER, bot_id)
            raise LeaseLost(f"bot {bot_id} is leased by {holder or 'nobody'}, not by {self.holder}")

    async def retake(self) -> Retaken:
        """After the lock connection was lost, reopen it and retake each held bot's lock. A bot whose row
        names another holder (one that took it over, then lost or never used the lock) must be claimed
        again; a bot whose lock another process holds is given up. Raises a connection error while
        Postgres cannot be reached (the next call tries again)."""
        retaken = Retaken()
        if not self.held or await self._locks_held():
            return retaken
        if self.conn is not None and not self.conn.is_closed():
            self.conn.terminate()
        self.conn = await self._connect()
        for bot_id in list(self.held):
            if not await self.conn.fetchval(TRY_LOCK, str(bot_id)):
                self.held.remove(bot_id)
                self.lost[bot_id] = "another process holds its lock"
                retaken.given_up.append(bot_id)
                log.error("bot %s given up: another process took its lease", bot_id)
            elif await self.conn.fetchval(HOLDER, bot_id) != self.holder:
                retaken.reclaim.append(bot_id)
        log.warning("lease connection reopened: %d bot lease(s) retaken", len(self.held))
        return retaken

    async def _locks_held(self) -> bool:
        """The lock connection answers and holds a lock per held bot."""
        if self.conn is None or self.conn.is_closed():
            return False
        try:
            return int(await self.conn.fetchval(HELD)) >= len(self.held)
        except CONNECTION_ERRORS:
            return False

    async def remove(self, conn: asyncpg.Connection) -> None:
        """Delete this holder's rows (a clean stop), before `release` frees the locks."""
        await conn.execute(RELEASE, self.held, self.holder)

    async def check(self) -> str:
        """Readiness: the lock connection answers and holds every lease taken, and no bot was given up.
        A lost connection fails it until `retake` takes the locks again; a bot given up fails it until the
        process restarts (another process runs that bot now)."""
        if self.lost:
            given_up = "; ".join(f"bot {bot}: {why}" for bot, why in self.lost.items())
            raise Failed(f"{len(self.lost)} bot(s) given up to another process ({given_up})")
        if not self.held:
            return "no bot leased"
        if self.conn is None or self.conn.is_closed():
            raise Failed(f"the lease connection is gone: {len(self.held)} bot lease(s) not held")
        held = int(await self.conn.fetchval(HELD))
        if held < len(self.held):
            raise Failed(f"{held} of {len(self.held)} bot lease lock(s) held")
        return f"{held} bot lease(s) held by {self.holder}"

    async def release(self) -> None:
        """Free every lock, then close their connection (also fine when it is already gone). Unlocking
        first frees them when this returns: a closed connection's backend lets go a moment later."""
        conn, self.conn, self.held = self.conn, None, []
        await close_quietly(conn, "SELECT pg_advisory_unlock_all()")

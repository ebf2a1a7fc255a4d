"""Leader election: a session advisory lock on a dedicated connection with TCP keepalives.

The lock dies with its connection, so a crashed or partitioned leader loses it; a health probe on
the same connection tells the leader when that has happened.
"""

from __future__ import annotations

import asyncio

import asyncpg

from producers.drain.config import DrainConfig
from settings.connections import CONNECTION_ERRORS, close_quietly


class Leadership:
    """Holds (or tries to take) the drain lock on its own connection."""

    def __init__(self, dsn: str, config: DrainConfig, key: int) -> None:
        self.dsn = dsn
        self.config = config
        self.key = key
        self.conn: asyncpg.Connection | None = None

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; keeps the connection open while leading."""
        if self.conn is None or self.conn.is_closed():
            c = self.config
            self.conn = await asyncpg.connect(
                self.dsn,
                timeout=c.health_timeout_s * 2,
                server_settings={
                    "application_name": "gordon-drain-lock",
                    "tcp_keepalives_idle": str(c.keepalive_idle_s),
                    "tcp_keepalives_interval": str(c.keepalive_interval_s),
                    "tcp_keepalives_count": str(c.keepalive_count),
                },
            )
        return bool(await self.conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key))

    async def alive(self) -> bool:
        """Whether the lock connection still answers (and so the lock is still ours)."""
        if self.conn is None or self.conn.is_closed():
            return False
        try:
            async with asyncio.timeout(self.config.health_timeout_s):
                await self.conn.fetchval("SELECT 1")
        except CONNECTION_ERRORS:
            return False
        return True

    async def release(self) -> None:
        """Give the lock up by closing its connection (also fine when it is already gone)."""
        conn, self.conn = self.conn, None
        await close_quietly(conn)

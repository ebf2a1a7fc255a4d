"""Fencing tokens (Kleppmann): two executor processes at once (a restart whose old process is not dead
yet, a partition) cannot both write to the paper exchange's books for a bot.

Each process draws a token per bot the first time it writes to the exchange for that bot, with
`trading.increment_fence` (revision 0011) on a dedicated autocommit connection: a token is committed the
moment it is drawn, so it is never handed out twice even when the placing transaction rolls back, and a
draw inside a placing transaction never waits for a second connection of the pool. The exchange admits
a token in each write's transaction (`admit`): the highest token it has seen per bot is the only one it
takes, so once a newer process has written for a bot, the older one is `Fenced` for that bot for good
(a restart draws new tokens). The readiness check `fence` fails naming the bots this process lost.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

import asyncpg

from services.readiness import Failed
from settings.connections import close_quietly

log = logging.getLogger(__name__)

DRAW = "SELECT trading.increment_fence($1)"

SEEN = "SELECT token FROM paper.fence_tokens WHERE bot_id = $1"
HOLD = "SELECT token FROM paper.fence_tokens WHERE bot_id = $1 FOR SHARE"
RAISE = """
INSERT INTO paper.fence_tokens AS f (bot_id, token, seen_ms) VALUES ($1, $2, $3)
ON CONFLICT (bot_id) DO UPDATE
SET token = greatest(f.token, EXCLUDED.token),
    seen_ms = CASE WHEN EXCLUDED.token > f.token THEN EXCLUDED.seen_ms ELSE f.seen_ms END
RETURNING token
"""


class Fenced(RuntimeError):
    """A write for `bot_id` with `token` after the exchange has seen the newer token `seen`."""

    def __init__(self, bot_id: UUID, token: int, seen: int) -> None:
        super().__init__(
            f"fenced out of bot {bot_id}: this executor's token {token} is older than the exchange's {seen}"
        )
        self.bot_id = bot_id
        self.token = token
        self.seen = seen


async def admit(tx: asyncpg.Connection, bot_id: UUID, token: int, now_ms: int) -> None:
    """Admit `token` for a write to the books of `bot_id` in `tx`, or raise `Fenced`.

    The token the exchange already has is held with a share lock until `tx` ends (writes of one process
    do not wait for each other); a newer one is stored with the upsert's row lock, which waits for every
    transaction holding the older one, so no write with the older token commits after it."""
    seen = await tx.fetchval(SEEN, bot_id)
    if seen == token:
        seen = await tx.fetchval(HOLD, bot_id)
    if seen is None or seen < token:
        seen = await tx.fetchval(RAISE, bot_id, token, now_ms)
    if seen > token:
        raise Fenced(bot_id, token, seen)


class Fences:
    """This process's token per bot, drawn on its own connection, and the bots it was fenced out of."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.tokens: dict[UUID, int] = {}
        self.lost: dict[UUID, Fenced] = {}
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def token(self, bot_id: UUID) -> int:
        """This process's token for `bot_id`, drawn on first use; one draw per bot however many ask."""
        if (token := self.tokens.get(bot_id)) is not None:
            return token
        async with self._lock:  # one draw at a time on the one connection, and once per bot
            if (token := self.tokens.get(bot_id)) is not None:
                return token
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(
                    self.dsn, server_settings={"application_name": "gordon-executor-fences"}
                )
            token = int(await self._conn.fetchval(DRAW, bot_id))
            self.tokens[bot_id] = token
            log.info("fencing token %d drawn for bot %s", token, bot_id)
            return token

    def fenced(self, fenced: Fenced) -> None:
        """Record that the exchange refused this process's token (logged as an error once per bot)."""
        if fenced.bot_id not in self.lost:
            log.error("%s; this process writes nothing more for it until restarted", fenced)
        self.lost[fenced.bot_id] = fenced

    async def check(self) -> str:
        """Readiness: fails once this process has been fenced out of a bot (until it is restarted)."""
        if self.lost:
            bots = ", ".join(f"{f.bot_id} (token {f.token}, exchange {f.seen})" for f in self.lost.values())
            raise Failed(f"fenced out of {len(self.lost)} bot(s) by a newer executor: {bots}")
        return f"{len(self.tokens)} bot token(s) drawn, none fenced"

    async def close(self) -> None:
        """Close the draw connection (also fine when it is already gone)."""
        conn, self._conn = self._conn, None
        await close_quietly(conn)

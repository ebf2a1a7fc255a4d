"""Fills on the write side: per (bot, symbol) gapless versions, recorded and published together."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from producers.channels import FILLS
from producers.outbox import Outbox
from schemas.common import bot_token
from schemas.trading import Fill
from stores import heads
from stores.rows import EventTable

EVENTS = EventTable(Fill, "trading.fill_events")


def position_id(bot_id: UUID, symbol: str) -> str:
    return f"{bot_id}:{symbol}"


class FillStore:
    """Records the executor's fills."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def next_version(self, tx: asyncpg.Connection, bot_id: UUID, symbol: str) -> int:
        """Lock the position's head and return the version the next fill of it must carry."""
        return await heads.lock(tx, "position", position_id(bot_id, symbol)) + 1

    async def record(self, tx: asyncpg.Connection, fill: Fill) -> None:
        """Append `fill` (its version from `next_version` in this transaction) and publish it."""
        head = await heads.lock(tx, "position", position_id(fill.bot_id, fill.symbol))
        if fill.version != head + 1:
            raise RuntimeError(f"fill for {fill.bot_id}/{fill.symbol}: version {fill.version} after {head}")
        await EVENTS.append(tx, [fill])
        await heads.advance(tx, "position", position_id(fill.bot_id, fill.symbol), fill.version)
        await self.outbox.publish_within(tx, FILLS(bot_id=bot_token(fill.bot_id)), fill)

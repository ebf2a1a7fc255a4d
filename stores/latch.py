"""The risk latch on the write side: `trading.risk_events` is the risk service's record."""

from __future__ import annotations

import asyncpg

from domain.latch import RiskLatch
from producers.channels import RISK_EVENTS
from producers.outbox import Outbox
from schemas.risk import BreakerEvent
from stores import heads
from stores.rows import EventTable

EVENTS = EventTable(BreakerEvent, "trading.risk_events")
LOAD = EVENTS.select("latch_id = $1")


class LatchStore:
    """Loads and saves the `RiskLatch` for the risk service."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def load(self, tx: asyncpg.Connection, latch_id: str = "global") -> RiskLatch:
        """The latch under its row lock, rebuilt from its own events."""
        await heads.lock(tx, "latch", latch_id)
        return RiskLatch.from_events(latch_id, [EVENTS.event(r) for r in await tx.fetch(LOAD, latch_id)])

    async def save(
        self, tx: asyncpg.Connection, latch: RiskLatch, *, actor: str | None = None
    ) -> list[BreakerEvent]:
        """Append the latch's new events, move its head, and publish each on `risk.events.{breaker}`
        (`actor`: the operator whose request this is, sent as Gordon-Actor)."""
        events = latch.collect_payloads()
        if not events:
            return []
        latch_id = events[0].latch_id
        head = await heads.lock(tx, "latch", latch_id)
        if events[0].version != head + 1:
            raise RuntimeError(f"latch {latch_id}: version {events[0].version} after head {head}")
        await EVENTS.append(tx, events)
        await heads.advance(tx, "latch", latch_id, events[-1].version)
        for event in events:
            await self.outbox.publish_within(tx, RISK_EVENTS(breaker=event.breaker.value), event, actor=actor)
        return events

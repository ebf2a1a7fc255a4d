"""The risk latch on the write side: `trading.risk_events` is the risk service's record."""

from __future__ import annotations

import asyncpg

from domain.latch import RiskLatch
from producers.channels import RISK_EVENTS
from producers.outbox import Outbox
from schemas.risk import BreakerEvent
from stores import heads

COLUMNS = "latch_id, version, event_id, breaker, action, value, threshold, bot_id, message, ts_ms"
INSERT = f"INSERT INTO trading.risk_events ({COLUMNS}) VALUES ({', '.join(f'${i}' for i in range(1, 11))})"


class LatchStore:
    """Loads and saves the `RiskLatch` for the risk service."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def load(self, tx: asyncpg.Connection, latch_id: str = "global") -> RiskLatch:
        """The latch under its row lock, rebuilt from its own events."""
        await heads.lock(tx, "latch", latch_id)
        rows = await tx.fetch(
            f"SELECT {COLUMNS} FROM trading.risk_events WHERE latch_id = $1 ORDER BY version", latch_id
        )
        return RiskLatch.from_events(latch_id, [BreakerEvent(**dict(r)) for r in rows])

    async def save(self, tx: asyncpg.Connection, latch: RiskLatch) -> list[BreakerEvent]:
        """Append the latch's new events, move its head, and publish each on `risk.events.{breaker}`."""
        events = latch.collect_payloads()
        if not events:
            return []
        latch_id = events[0].latch_id
        head = await heads.lock(tx, "latch", latch_id)
        if events[0].version != head + 1:
            raise RuntimeError(f"latch {latch_id}: version {events[0].version} after head {head}")
        await tx.executemany(
            INSERT,
            [
                (
                    e.latch_id,
                    e.version,
                    e.event_id,
                    e.breaker.value,
                    e.action.value,
                    e.value,
                    e.threshold,
                    e.bot_id,
                    e.message,
                    e.ts_ms,
                )
                for e in events
            ],
        )
        await heads.advance(tx, "latch", latch_id, events[-1].version)
        for event in events:
            await self.outbox.publish_within(tx, RISK_EVENTS(breaker=event.breaker.value), event)
        return events

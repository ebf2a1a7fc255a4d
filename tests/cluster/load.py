"""A steady outbox load for fault tests (orders in two versions, written at a fixed rate), and the
exactly-once check of what reached the stream."""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field

import asyncpg
from nats.js import JetStreamContext

from registry.ids import uuid7
from schemas.trading import OrderEvent
from tests.outbox.conftest import order_event, stored, write


def order_pairs(orders: int) -> list[OrderEvent]:
    """Version 1 (submitted) and 2 (acked) of `orders` orders, each v2 some rows after its v1."""
    ids = [uuid7() for _ in range(orders)]
    events: list[OrderEvent] = []
    for i, order_id in enumerate(ids):
        events.append(order_event(order_id, 1))
        if i >= 5:
            events.append(order_event(ids[i - 5], 2))
    events += [order_event(order_id, 2) for order_id in ids[max(0, orders - 5) :]]
    return events


@dataclass
class Load:
    """What the writer committed, and the commits that failed (and were retried) on the way."""

    committed: list[str] = field(default_factory=list)
    failed_commits: int = 0


async def write_at_rate(dsn: str, events: list[OrderEvent], per_second: float, load: Load) -> None:
    """Commit `events` one transaction each at `per_second`, reconnecting and retrying a commit that
    failed (an event counts as committed only once its transaction did)."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    conn: asyncpg.Connection | None = None
    try:
        for i, event in enumerate(events):
            delay = began + i / per_second - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            while True:
                try:
                    if conn is None or conn.is_closed():
                        conn = await asyncpg.connect(dsn, timeout=5)
                    await write(conn, event)
                    break
                except asyncpg.UniqueViolationError:
                    break  # the commit whose answer was lost had gone through
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                    load.failed_commits += 1
                    if conn is not None:
                        conn.terminate()
                    conn = None
                    await asyncio.sleep(0.2)
            load.committed.append(str(event.event_id))
    finally:
        if conn is not None and not conn.is_closed():
            await conn.close()


async def outbox_event_ids(dsn: str) -> list[str]:
    """Every event id committed to `bus.outbox` (published or not): what must reach the stream."""
    conn = await asyncpg.connect(dsn)
    try:
        return [str(r[0]) for r in await conn.fetch("SELECT event_id FROM bus.outbox ORDER BY id")]
    finally:
        await conn.close()


async def copies_by_msg_id(js: JetStreamContext, stream: str) -> collections.Counter[str]:
    """How many times each Nats-Msg-Id is stored in `stream`."""
    return collections.Counter(message.msg_id for message in await stored(js, stream))


def exactly_once(committed: list[str], copies: collections.Counter[str]) -> tuple[list[str], list[str]]:
    """(missing, duplicated) event ids: committed but not stored, and stored more than once."""
    missing = [event_id for event_id in committed if copies[event_id] == 0]
    duplicated = [msg_id for msg_id, n in copies.items() if n > 1]
    return missing, duplicated

"""The drain under the generated NATS authorization, logged in as the `drain` user (who may publish the
bus subjects and read only its own inbox, not the JetStream API): fast batches still work, their acks
arrive on the drain's inbox, and nothing is refused for permissions."""

from __future__ import annotations

import asyncpg

from registry.ids import uuid7
from settings import nats_login
from tests.bus_security.nats_harness import AuthServer, Login, logged_in
from tests.outbox.conftest import FAST, count_unpublished, order_event, running, stored, wait_until, write


async def test_the_drain_user_publishes_fast_batches(
    auth_server: AuthServer, admin: Login, database: str
) -> None:
    conn = await asyncpg.connect(database)
    order = uuid7()
    events = [order_event(order, v) for v in range(1, 301)]
    try:
        for event in events:
            await write(conn, event)
    finally:
        await conn.close()
    async with logged_in(auth_server, nats_login.DRAIN) as login:
        async with running(database, login.client, FAST) as drain:
            await wait_until(lambda: _drained(database), "the outbox to drain")
        assert login.violations() == []
    assert drain.stats.fast_batches
    assert drain.stats.batch_fallbacks == 0
    assert [m.msg_id for m in await stored(admin.client.jetstream())] == [str(e.event_id) for e in events]


async def _drained(database: str) -> bool:
    return await count_unpublished(database) == 0

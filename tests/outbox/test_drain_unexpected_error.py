"""A leader's term ended by an unexpected error (one the drain does not retry) still cleans up: the error
propagates out of `run`, and the mark loop, the health watch and both of the term's connections are
closed, where re-raising the forwarding task's failure in the cleanup left them open for good."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import PubAck

from producers.drain.worker import Drain
from registry.ids import uuid7
from tests.outbox.conftest import FAST, order_event, wait_until, write

TERM_CONNECTIONS = """
SELECT count(*) FROM pg_stat_activity
WHERE application_name IN ('gordon-drain', 'gordon-drain-mark') AND datname = current_database()
"""


async def _broken_send(subject: str, payload: bytes, headers: dict[str, str]) -> asyncio.Future[PubAck]:
    raise RuntimeError("a bug in the send path")


@pytest.mark.timeout(60)
async def test_an_unexpected_error_ends_the_term_and_closes_its_connections(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    admin = await asyncpg.connect(database)
    try:
        await write(admin, order_event(uuid7(), 1))
        drain = Drain(database, nats, FAST, send=_broken_send, name="broken")
        with pytest.raises(RuntimeError, match="a bug in the send path"):
            await asyncio.wait_for(drain.run(asyncio.Event()), 30)

        async def closed() -> bool:
            return int(await admin.fetchval(TERM_CONNECTIONS)) == 0

        await wait_until(closed, "the term's work and mark connections to close", 10)
    finally:
        await admin.close()

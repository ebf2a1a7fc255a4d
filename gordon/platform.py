"""What `gordon up` runs beside the servers: the streams from the registry, then the bus services."""

from __future__ import annotations

import asyncio

from gordon.runtime.dsn import with_user
from gordon.runtime.servers import Endpoints
from migrations import roles
from producers.drain.runner import connect_nats, run_drain
from registry.streams import ensure_streams
from schemas import REGISTRY


async def prepare_streams(nats_url: str) -> dict[str, str]:
    """Create or update every declared stream; returns what happened to each."""
    client = await connect_nats(nats_url, "gordon-up")
    try:
        return await ensure_streams(client.jetstream(), REGISTRY.streams)
    finally:
        await client.close()


async def drain(endpoints: Endpoints) -> None:
    """The outbox drain, connected as the least-privileged `gordon_drain` role."""
    stop = asyncio.Event()
    try:
        await run_drain(endpoints.nats_url, with_user(endpoints.database_url, roles.DRAIN), stop)
    finally:
        stop.set()

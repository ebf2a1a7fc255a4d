"""Run a drain process against URLs: reconnecting NATS client, streams ensured, until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from nats.aio.client import Client as NatsClient

from producers.drain.config import DrainConfig
from producers.drain.worker import Drain
from settings import nats_login
from settings.environment import nats_servers

log = logging.getLogger("gordon.drain")


async def connect_nats(url: str, name: str, user: str | None = None) -> NatsClient:
    """A client that reconnects forever (a drain must ride out a NATS restart). `url` may list every
    node of a cluster, comma-separated: the client then reconnects to another node when one is lost.
    It logs in as `user` when that user's password is set (see gordon.nats_auth), else anonymously."""

    async def on_error(error: Exception) -> None:
        log.warning("%s: NATS %s: %s", name, type(error).__name__, error)

    return await nats.connect(
        nats_servers(url),
        name=name,
        error_cb=on_error,
        connect_timeout=2,
        reconnect_time_wait=0.25,
        max_reconnect_attempts=-1,
        allow_reconnect=True,
        **(nats_login.connect_options(user) if user else {}),
    )


async def run_drain(
    nats_url: str, database_url: str, stop: asyncio.Event, config: DrainConfig | None = None
) -> Drain | None:
    """Connect (retrying while NATS is down) and drain until `stop`; returns the drain for its stats
    (None when stopped before NATS ever answered)."""
    client: NatsClient | None = None
    delay = 0.25
    while client is None and not stop.is_set():
        try:
            client = await connect_nats(nats_url, "gordon-drain", nats_login.DRAIN)
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            log.warning("drain: NATS at %s unreachable (%s); retrying in %.1fs", nats_url, exc, delay)
            waiter = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter}, timeout=delay)
            waiter.cancel()
            delay = min(delay * 2, 5.0)
    if client is None:
        return None
    drain = Drain(database_url, client, config)
    try:
        await drain.run(stop)
    finally:
        with contextlib.suppress(OSError, nats.errors.Error):
            await client.close()
    return drain

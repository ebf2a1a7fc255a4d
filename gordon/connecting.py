"""How a command connects to NATS: as the admin user when its password is set, failing fast with the one
wording for a server it cannot reach (a CLI never waits on reconnects)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from nats.js import JetStreamContext

from settings import nats_login
from settings.environment import NATS_URL, nats_servers, unreachable
from settings.errors import GordonError


@asynccontextmanager
async def jetstream(url: str) -> AsyncIterator[JetStreamContext]:
    """A JetStream context on `url`; a failed connect is one line."""
    try:
        client = await nats.connect(
            nats_servers(url),
            connect_timeout=5,
            allow_reconnect=False,
            max_reconnect_attempts=1,  # 0 would mean "retry forever" in nats-py's first connect
            error_cb=_quiet,
            **nats_login.connect_options(nats_login.ADMIN),
        )
    except Exception as exc:  # nats-py raises several unrelated types when a server is unreachable
        raise GordonError(unreachable(NATS_URL, url, exc)) from None
    try:
        yield client.jetstream()
    finally:
        await client.close()


async def _quiet(error: Exception) -> None:
    """nats-py logs every failed attempt with a traceback; the CLI reports the outcome in one line."""

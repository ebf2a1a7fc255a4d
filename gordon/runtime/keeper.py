"""Keeping `gordon up`'s embedded servers running: one that exits unexpectedly is restarted on its port.

Clients ride through the restart (the drain, the projection runners and the services reconnect and
resume from what is durable). A server that keeps dying is not restarted forever: after `MAX_RESTARTS`
within `WINDOW_S` the platform stops with one line, rather than run on half a platform.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from settings.errors import GordonError

POLL_S = 0.5
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0
MAX_RESTARTS = 5
WINDOW_S = 300.0


class Server(Protocol):
    """An embedded server: `returncode()` is its exit code once it ended without being stopped."""

    def returncode(self) -> int | None: ...

    def stop(self) -> None: ...

    def start(self) -> object: ...


class ServerLost(GordonError):
    """An embedded server kept exiting; the platform stops."""


async def keep_running(
    servers: Sequence[tuple[str, Server]],
    say: Callable[[str], None],
    *,
    poll_s: float = POLL_S,
    first_backoff_s: float = FIRST_BACKOFF_S,
) -> None:
    """Watch `servers` until cancelled, restarting each one that exits, with backoff; ServerLost when
    one exits more than MAX_RESTARTS times within WINDOW_S or cannot be started again."""
    restarts: dict[str, list[float]] = {name: [] for name, _ in servers}
    while True:
        for name, server in servers:
            code = server.returncode()
            if code is None:
                continue
            now = time.monotonic()
            recent = [t for t in restarts[name] if now - t < WINDOW_S] + [now]
            restarts[name] = recent
            if len(recent) > MAX_RESTARTS:
                raise ServerLost(
                    f"{name} exited {len(recent)} times within {WINDOW_S:.0f} s (last code {code}); "
                    "stopping the platform"
                )
            backoff = min(first_backoff_s * 2 ** (len(recent) - 1), MAX_BACKOFF_S)
            say(f"{name} exited unexpectedly (code {code}); restarting it on its port in {backoff:.1f} s")
            await asyncio.sleep(backoff)
            _restart(name, server)
            say(f"{name} restarted")
        await asyncio.sleep(poll_s)


def _restart(name: str, server: Server) -> None:
    server.stop()  # reaps the ended process, so start() launches a new one
    try:
        # On this (the main) thread, blocking it for the start: the child's parent-death signal is
        # tied to the thread that spawns it, and a pool thread may end before the platform does.
        server.start()
    except Exception as error:
        raise ServerLost(f"{name} could not be restarted: {error}; stopping the platform") from None

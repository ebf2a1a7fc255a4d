"""Stopping long-running parts cleanly: a stop event first, cancellation only as the last resort.

CPython 3.11's `asyncio.wait_for` (used inside nats-py and asyncpg) can swallow a cancellation that
arrives as its timeout fires; a part cancelled there would run on forever. So a supervised part runs
behind a shield: the cancellation lands here, the part is told to stop through its event and given a
grace period, and only then cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("gordon.up")

GRACE_S = 15.0


async def until_cancelled(
    name: str, main: Callable[[asyncio.Event], Awaitable[object]], grace_s: float = GRACE_S
) -> None:
    """Run `main(stop)` until it ends or this coroutine is cancelled; then set `stop` and wait for it."""
    stop = asyncio.Event()
    task = asyncio.ensure_future(main(stop))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        stop.set()
        done, _ = await asyncio.wait({task}, timeout=grace_s)
        if not done:
            log.warning("%s did not stop within %.0fs of being asked; cancelling it", name, grace_s)
            task.cancel()
            await asyncio.wait({task}, timeout=grace_s)
        raise

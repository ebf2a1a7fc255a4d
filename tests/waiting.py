"""Waiting in tests for something that happens elsewhere (another task, process or server): one poll loop
with a deadline, so a wait never hangs and its failure names what did not happen."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

POLL_S = 0.05


async def eventually(check: Callable[[], object], what: str, timeout_s: float = 30.0) -> None:
    """Poll `check` (a plain or a coroutine function) until it returns something truthy; after
    `timeout_s` fail naming `what` and the last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")
        await asyncio.sleep(POLL_S)

"""Serve an ASGI app with real granian (embedded, on the caller's event loop) at a free loopback port,
for browser pages and HTTP-level tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from granian.constants import Interfaces
from granian.server.embed import Server

from services.http_server import free_port

LOOPBACK = "127.0.0.1"
SERVER_START_TIMEOUT = 20.0
SERVER_STOP_TIMEOUT = 10.0


async def _wait_listening(port: int, task: asyncio.Task[None]) -> None:
    """Return once `port` accepts connections; raise if the server task ends or time runs out."""
    deadline = asyncio.get_running_loop().time() + SERVER_START_TIMEOUT
    while asyncio.get_running_loop().time() < deadline:
        if task.done():
            error = task.exception()
            raise RuntimeError(f"granian stopped before listening on {LOOPBACK}:{port}: {error!r}")
        try:
            _, writer = await asyncio.open_connection(LOOPBACK, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise TimeoutError(f"granian did not listen on {LOOPBACK}:{port} within {SERVER_START_TIMEOUT:.0f} s")


@contextlib.asynccontextmanager
async def serve_asgi_app(app: Any) -> AsyncIterator[str]:
    """Serve the ASGI `app` with granian (embedded, on this event loop) at a free loopback port;
    yields its base URL, e.g. http://127.0.0.1:40123, and stops the server on exit."""
    port = free_port(LOOPBACK)
    server = Server(app, address=LOOPBACK, port=port, interface=Interfaces.ASGI, log_enabled=False)
    task = asyncio.create_task(server.serve(), name=f"granian:{port}")
    try:
        await _wait_listening(port, task)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.stop()  # type: ignore[no-untyped-call]  # granian leaves it unannotated
        await _stopped(task)


async def _stopped(task: asyncio.Task[None]) -> None:
    """Wait for the server task to end (cancel it after SERVER_STOP_TIMEOUT); a startup failure was
    already raised, so its exception is only collected here."""
    if not task.done():
        try:
            await asyncio.wait_for(asyncio.shield(task), SERVER_STOP_TIMEOUT)
        except TimeoutError:
            task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(task, return_exceptions=True)

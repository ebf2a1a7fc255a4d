"""Serve the manager API with granian's embedded server, on the caller's event loop.

Why embedded: `gordon up` runs every part of the platform as tasks of one asyncio loop, stopped through
stop events; granian's `granian.server.embed.Server` serves an ASGI app as one more task of that loop
(its Rust runtime does the HTTP I/O), so the API starts and stops with the manager service, shares its
process metrics, and needs no second process to supervise. `gordon manager` uses the same path.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field

from fastapi import FastAPI
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.embed import Server

from settings.errors import GordonError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
STARTUP_TIMEOUT_S = 30.0


class ServeError(GordonError):
    """The API could not start (port taken, backend unreachable); str() is one line."""


def check_port(host: str, port: int) -> None:
    """Bind and release `host:port` so a taken or invalid address fails with one line, up front."""
    if not 0 < port < 65536:
        raise ServeError(f"port must be 1..65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4][:2])
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port the OS says is free now on `host` (IPv4 or IPv6; for tests and `--port 0`)."""
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.bind(infos[0][4][:2])
            return int(probe.getsockname()[1])
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}: {exc.strerror or exc}") from None


@dataclass
class ApiServer:
    """One app under granian on `host:port`: `await start()` returns once the app's lifespan has opened
    its backend (or raises ServeError), `await stop()` shuts it down."""

    app: FastAPI
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    _server: Server | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        check_port(self.host, self.port)
        self._server = Server(
            self.app,
            address=self.host,
            port=self.port,
            interface=Interfaces.ASGI,
            websockets=True,
            log_level=LogLevels.error,
        )
        self._task = asyncio.create_task(self._server.serve(), name="manager-api")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT_S
        while getattr(self.app.state, "backend", None) is None:
            error = getattr(self.app.state, "startup_error", None)
            if error is not None or self._task.done():
                await self.stop()
                raise ServeError(f"manager API did not start: {error or 'granian exited'}")
            if loop.time() > deadline:
                await self.stop()
                raise ServeError(f"manager API did not start within {STARTUP_TIMEOUT_S:g} s")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        if not task.done():
            server.stop()  # type: ignore[no-untyped-call]
        await asyncio.wait({task}, timeout=10)
        if task.done() and not task.cancelled():
            with contextlib.suppress(Exception):
                task.result()

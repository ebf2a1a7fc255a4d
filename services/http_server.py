"""Serving a service's ASGI app with granian's embedded server, on the service's own event loop.

Why embedded: `gordon up` runs all five services as tasks of one asyncio loop, and `faststream run`
runs one; granian's `granian.server.embed.Server` serves an ASGI app as one more task of that loop (its
Rust runtime does the HTTP I/O), so the HTTP side starts and stops with the service and reads its
memory (readiness, metrics) directly, with no second process to supervise.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.embed import Server

from settings.errors import GordonError

DEFAULT_HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 30.0


class ServeError(GordonError):
    """An HTTP server could not start (port taken, app failed to start); str() is one line."""


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
    """A port the OS says is free now on `host` (IPv4 or IPv6; for tests and port 0)."""
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.bind(infos[0][4][:2])
            return int(probe.getsockname()[1])
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}: {exc.strerror or exc}") from None


def url_of(host: str, port: int) -> str:
    """`http://host:port`, with an IPv6 host in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class HttpServer:
    """One ASGI app under granian on `host:port` (0: a free port). `lifespan` False serves the app
    without ASGI lifespan events (FastStream's app owns the service's lifecycle); `ready` (when given)
    says whether the app has finished starting, else the listening socket does.
    `await start()` returns once it serves (or raises ServeError), `await stop()` shuts it down."""

    app: Any
    host: str = DEFAULT_HOST
    port: int = 0
    name: str = "HTTP server"
    """How errors name it ("executor HTTP")."""
    lifespan: bool = False
    websockets: bool = False
    ready: Callable[[], bool] | None = None
    failed: Callable[[], str | None] = lambda: None
    """Why the app failed to start, once it has (read while waiting)."""
    _server: Server | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return url_of(self.host, self.port)

    async def start(self) -> None:
        self.port = self.port or free_port(self.host)
        check_port(self.host, self.port)
        self._server = Server(
            self.app,
            address=self.host,
            port=self.port,
            interface=Interfaces.ASGI if self.lifespan else Interfaces.ASGINL,
            websockets=self.websockets,
            log_level=LogLevels.error,
        )
        self._task = asyncio.create_task(self._server.serve(), name=self.name)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT_S
        while not (self.ready() if self.ready else _accepts(self.host, self.port)):
            error = self.failed()
            if error is not None or self._task.done():
                await self.stop()
                raise ServeError(f"{self.name} did not start: {error or 'granian exited'}")
            if loop.time() > deadline:
                await self.stop()
                raise ServeError(f"{self.name} did not start within {STARTUP_TIMEOUT_S:g} s")
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

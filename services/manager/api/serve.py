"""`ApiServer`: the manager's FastAPI app under granian (services/http_server.py), with its lifespan.

Its lifespan opens the API's backend (a gordon_manager pool and a NATS connection); `start()` returns
once that is open, so the first request finds it. `gordon up` and `gordon manager` both use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from services.http_server import DEFAULT_HOST, HttpServer
from settings.environment import DEFAULT_MANAGER_PORT

DEFAULT_PORT = DEFAULT_MANAGER_PORT


@dataclass
class ApiServer:
    """The manager API on `host:port`: `await start()` returns once its lifespan has opened the backend
    (or raises services.http_server.ServeError), `await stop()` shuts it down."""

    app: FastAPI
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    def __post_init__(self) -> None:
        self._http = HttpServer(
            self.app,
            self.host,
            self.port,
            name="manager API",
            lifespan=True,
            websockets=True,
            ready=lambda: getattr(self.app.state, "backend", None) is not None,
            failed=lambda: getattr(self.app.state, "startup_error", None),
        )

    @property
    def url(self) -> str:
        return self._http.url

    async def start(self) -> None:
        await self._http.start()

    async def stop(self) -> None:
        await self._http.stop()

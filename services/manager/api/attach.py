"""Serve the API from the manager service: started after its broker, stopped with it.

`gordon up` and `gordon manager` both build the manager service and call `attach`, so the API runs in
the service's process and event loop, shares its breaker-event memory and its clock, and connects as
the same gordon_manager role. With no operator token, `demo` generates one for this run (printed);
otherwise the write endpoints stay disabled and the announcement says so.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from services.manager.api.app import create_app
from services.manager.api.backend import ApiDeps
from services.manager.api.serve import ApiServer, free_port
from services.manager.service import ManagerService
from settings.environment import MANAGER_TOKEN


def api_deps(service: ManagerService, token: str | None) -> ApiDeps:
    """The API's dependencies taken from the running manager service."""
    runtime = service.runtime
    return ApiDeps(
        database_url=runtime.database_url,
        nats_url=runtime.nats_url,
        recent=service.recent,
        token=token,
        clock=runtime.clock,
        live=service.live,
    )


def attach(
    service: ManagerService,
    *,
    host: str,
    port: int,
    token: str | None,
    demo: bool = False,
    announce: Callable[[str], None] = print,
    serving: Callable[[str], object] | None = None,
) -> ApiServer:
    """Serve the API on `host:port` (0: a free port) while `service` runs; returns the server.
    `serving` is told the URL once the server listens."""
    lines = []
    if token is None and demo:
        token = secrets.token_urlsafe(24)
        lines.append(f"operator token for this demo run (set {MANAGER_TOKEN} to choose one): {token}")
    elif token is None:
        lines.append(f"write endpoints (POST /risk/*) are disabled: {MANAGER_TOKEN} is not set")
    server = ApiServer(create_app(api_deps(service, token)), host, port or free_port(host))

    async def start() -> None:
        await server.start()
        if serving is not None:
            serving(server.url)
        announce(f"manager API at {server.url}/ (OpenAPI at {server.url}/openapi.json)")
        for line in lines:
            announce(line)

    service.app.after_startup(start)
    service.app.on_shutdown(server.stop)
    return server

"""Serve the API from the manager service: started after its broker, stopped with it.

The manager service attaches it when built (so `faststream run services.manager:app`, `gordon up` and
`gordon manager` all serve it, with the manager's `/healthz` and `/metrics`): the API runs in the
service's process and event loop, shares its breaker-event memory and its clock, and connects as
the same gordon_manager role. With no operator token, `demo` generates one for this run (printed);
otherwise the write endpoints stay disabled and the announcement says so.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from services.http_server import free_port, url_of
from services.manager.api.app import create_app
from services.manager.api.backend import ApiDeps
from services.manager.api.serve import ApiServer
from services.manager.service import ManagerService
from settings.environment import MANAGER_TOKEN, SERVICE_PORTS, Settings


def api_deps(service: ManagerService, token: str | None, peers: dict[str, str] | None = None) -> ApiDeps:
    """The API's dependencies taken from the running manager service."""
    runtime = service.runtime
    return ApiDeps(
        database_url=runtime.database_url,
        nats_url=runtime.nats_url,
        recent=service.recent,
        token=token,
        clock=runtime.clock,
        live=service.live,
        service=service.app,
        peers=peers or {},
    )


def peers_from(settings: Settings) -> dict[str, str]:
    """The other services' base URLs from their GORDON_<NAME>_PORT (a port 0 is not knowable: left out)."""
    return {
        name: url_of(settings.http_address(name), port)
        for name in SERVICE_PORTS
        if name != "manager" and (port := settings.http_port(name))
    }


def attach_from_settings(
    service: ManagerService, *, demo: bool = False, announce: Callable[[str], None] = print
) -> ApiServer:
    """`attach` with the host, port, token and peers of the environment (GORDON_MANAGER_*)."""
    settings = Settings.from_env()
    return attach(
        service,
        host=settings.manager_host,
        port=settings.manager_port,
        token=settings.manager_token,
        demo=demo,
        announce=announce,
        peers=peers_from(settings),
    )


def attach(
    service: ManagerService,
    *,
    host: str,
    port: int,
    token: str | None,
    demo: bool = False,
    announce: Callable[[str], None] = print,
    peers: dict[str, str] | None = None,
) -> ApiServer:
    """Serve the API on `host:port` (0: a free port) while `service` runs; returns the server.
    `peers`: the other services' base URLs, whose readiness /healthz and /metrics report."""
    lines = []
    if token is None and demo:
        token = secrets.token_urlsafe(24)
        lines.append(f"operator token for this demo run (set {MANAGER_TOKEN} to choose one): {token}")
    elif token is None:
        lines.append(f"write endpoints (POST /risk/*) are disabled: {MANAGER_TOKEN} is not set")
    server = ApiServer(create_app(api_deps(service, token, peers)), host, port or free_port(host))

    async def start() -> None:
        await server.start()
        announce(f"manager API at {server.url}/ (OpenAPI at {server.url}/openapi.json)")
        for line in lines:
            announce(line)

    service.app.after_startup(start)
    service.app.on_shutdown(server.stop)
    return server

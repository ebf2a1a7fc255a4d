"""What the API is built from (`ApiDeps`) and the connections its lifespan opens (`Backend`).

The app connects as gordon_manager (the role derived from the owner's URL) with its own small pool and
its own NATS connection, so it can be served beside the manager's FastStream app or alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
import nats
from fastapi import HTTPException, Request, status
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from producers.outbox import Outbox
from registry.subject import Service
from schemas import REGISTRY
from services.manager.api.health_policy import HealthPolicy
from services.manager.api.live import LiveHub
from services.manager.service import RecentBreakerEvents
from services.runtime import wall_clock_ms
from services.service_app import ServiceApp
from settings import nats_login, roles
from settings.dsn import with_user
from settings.environment import nats_servers


@dataclass
class ApiDeps:
    """Everything `create_app` needs. `database_url` may be the owner's URL: the API logs in as
    gordon_manager. `token` is the operator bearer token (None: write endpoints answer 503)."""

    database_url: str
    nats_url: str
    recent: RecentBreakerEvents = field(default_factory=RecentBreakerEvents)
    token: str | None = None
    clock: Callable[[], int] = wall_clock_ms
    health: HealthPolicy = field(default_factory=HealthPolicy)
    pool_size: int = 4
    live: LiveHub | None = None
    """The manager service's live feed behind /ws (None: /ws answers that it does not run here)."""
    service: ServiceApp | None = None
    """The manager service's app, whose readiness checks (its durables bound) /healthz adds."""
    peers: dict[str, str] = field(default_factory=dict)
    """The other services' base URLs by name: /healthz and /metrics report each one's readiness."""


@dataclass
class Backend:
    """The open connections of one running app."""

    deps: ApiDeps
    pool: asyncpg.Pool
    nc: NatsClient
    outbox: Outbox = field(default_factory=lambda: Outbox(REGISTRY, Service.MANAGER))

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()

    @classmethod
    async def open(cls, deps: ApiDeps) -> Backend:
        pool = await asyncpg.create_pool(
            with_user(deps.database_url, roles.MANAGER), min_size=1, max_size=deps.pool_size
        )
        try:
            nc = await nats.connect(
                nats_servers(deps.nats_url),
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                **nats_login.connect_options(Service.MANAGER.value),  # the manager's NATS user when set
            )
        except BaseException:
            await pool.close()
            raise
        return cls(deps, pool, nc)

    async def close(self) -> None:
        try:
            await self.nc.drain()
        finally:
            await self.pool.close()


def backend(request: Request) -> Backend:
    """FastAPI dependency: the backend the lifespan opened; 503 before it opened or after it closed."""
    found: Backend | None = getattr(request.app.state, "backend", None)
    if found is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the manager API is starting or stopping: its database and NATS connections are not open",
        )
    return found

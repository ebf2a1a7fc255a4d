"""What every service app shares: settings from the environment, its broker, its database role's pool,
its outbox, and an injectable clock.

Each service module builds one of these at import (`faststream run consumers.executor:app` reads
GORDON_NATS_URL and GORDON_DATABASE_URL then) and connects on startup, as its own least-privileged role.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
from faststream import FastStream
from faststream.nats import NatsBroker

from gordon import nats_auth
from gordon.runtime.dsn import with_user
from gordon.settings import DATABASE_URL, NATS_URL, Settings, nats_servers
from migrations import roles
from producers.outbox import Outbox
from registry.subject import Service
from schemas import REGISTRY

ROLES = {
    Service.DATA: roles.DATA_WRITER,
    Service.BOT: roles.BOT,
    Service.EXECUTOR: roles.EXECUTOR,
    Service.RISK: roles.RISK,
    Service.MANAGER: roles.MANAGER,
}


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class NotConfigured(RuntimeError):
    """A service started without the URLs it needs."""


@dataclass
class ServiceRuntime:
    """A service's connections, opened on startup and closed on shutdown."""

    service: Service
    nats_url: str
    database_url: str
    clock: Callable[[], int] = wall_clock_ms
    pool_size: int = 4
    outbox: Outbox = field(init=False)
    _pool: asyncpg.Pool | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.outbox = Outbox(REGISTRY, self.service)

    @property
    def role(self) -> str:
        return ROLES[self.service]

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise NotConfigured(f"{self.service} service is not started")
        return self._pool

    async def open(self) -> None:
        if self._pool is None:
            dsn = with_user(self.database_url, self.role)
            self._pool = await asyncpg.create_pool(dsn, min_size=1, max_size=self.pool_size)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


def service_app(
    service: Service,
    *,
    nats_url: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], int] = wall_clock_ms,
) -> tuple[FastStream, NatsBroker, ServiceRuntime]:
    """The FastStream app, its broker and the runtime of `service`; URLs default to the environment
    (GORDON_NATS_URL, GORDON_DATABASE_URL: the schema owner's URL, from which the role's is derived)."""
    settings = Settings.from_env()
    nats_url = nats_url or settings.nats_url
    database_url = database_url or settings.database_url
    if not nats_url or not database_url:
        missing = NATS_URL if not nats_url else DATABASE_URL
        raise NotConfigured(f"{service} service: {missing} is not set")
    runtime = ServiceRuntime(service, nats_url, database_url, clock)
    broker = NatsBroker(
        nats_servers(nats_url),
        logger=None,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        **nats_auth.broker_options(service.value),  # its own NATS user when its password is set
    )
    app = FastStream(broker, on_startup=[runtime.open], after_shutdown=[runtime.close])
    return app, broker, runtime

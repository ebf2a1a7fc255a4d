"""What every service app shares: settings from the environment, its broker, its database role's pool,
its outbox, and an injectable clock.

`faststream run services.executor:app` builds the service on its first access of `app` (`lazy_app`),
reading GORDON_NATS_URL and GORDON_DATABASE_URL then, and connects on startup as its own
least-privileged role; importing a service package needs no environment.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg
from faststream import FastStream
from faststream.nats import NatsBroker

from producers.outbox import Outbox
from registry.subject import Service
from schemas import REGISTRY
from settings import nats_login, roles
from settings.dsn import with_user
from settings.environment import DATABASE_URL, NATS_URL, Settings, nats_servers

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
        **nats_login.broker_options(service.value),  # its own NATS user when its password is set
    )
    app = FastStream(broker, on_startup=[runtime.open], after_shutdown=[runtime.close])
    return app, broker, runtime


class _Built(Protocol):
    app: FastStream


def lazy_app(package: str, module: str, factory: str) -> Callable[[str], FastStream]:
    """A module `__getattr__` for a service package: `app` is `module.factory().app`, built once, on the
    first access (by `faststream run <package>:app`); any other missing name is an AttributeError."""
    built: list[FastStream] = []

    def __getattr__(name: str) -> FastStream:
        if name != "app":
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if not built:
            make: Callable[[], _Built] = getattr(importlib.import_module(module), factory)
            built.append(make().app)
        return built[0]

    return __getattr__

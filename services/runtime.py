"""What every service app shares: settings from the environment, its broker (instrumented), its
database role's pool, its outbox, its HTTP port with `/healthz` and `/metrics`, and an injectable clock.

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

from consumers.metrics import of as metrics_of
from producers.outbox import Outbox
from registry.subject import Service
from schemas import REGISTRY
from services import instrumentation
from services.readiness import Check, Failed
from services.service_app import ServiceApp
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


KLINE_SILENCE_S = 180.0
"""The readiness bound of a kline consumer: a series closes a candle every minute, so three minutes
without one means the feed or the consumer is stuck."""


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
    http_host: str = "127.0.0.1"
    http_port: int = 0
    """Where `/healthz` and `/metrics` are served (0: a free port, known once started)."""
    max_silence_s: float | None = None
    """Readiness fails when the service has handled no event for this long (None: no such bound)."""
    checks: dict[str, Check] = field(default_factory=dict)
    """Readiness checks of this service beyond the standard ones (the data service's sources)."""
    outbox: Outbox = field(init=False)
    opened_at: float | None = field(default=None, init=False)
    """When `open` ran (monotonic): the bound on silence counts from there until a first event."""
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
            self.opened_at = time.monotonic()

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
    max_silence_s: float | None = None,
    serve_http: bool = True,
) -> tuple[ServiceApp, NatsBroker, ServiceRuntime]:
    """The app, its broker and the runtime of `service`; URLs default to the environment
    (GORDON_NATS_URL, GORDON_DATABASE_URL: the schema owner's URL, from which the role's is derived),
    the HTTP port to GORDON_<SERVICE>_PORT. `serve_http` False: the caller serves the app's routes
    itself (the manager, whose API carries them)."""
    settings = Settings.from_env()
    nats_url = nats_url or settings.nats_url
    database_url = database_url or settings.database_url
    if not nats_url or not database_url:
        missing = NATS_URL if not nats_url else DATABASE_URL
        raise NotConfigured(f"{service} service: {missing} is not set")
    runtime = ServiceRuntime(
        service,
        nats_url,
        database_url,
        clock,
        http_host=settings.http_address(service.value),
        http_port=settings.http_port(service.value),
        max_silence_s=max_silence_s,
    )
    broker = NatsBroker(
        nats_servers(nats_url),
        logger=None,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        middlewares=instrumentation.middlewares(service.value),
        **nats_login.broker_options(service.value),  # its own NATS user when its password is set
    )
    app = ServiceApp(
        broker,
        service.value,
        lambda: standard_checks(runtime, broker),
        host=runtime.http_host,
        port=runtime.http_port,
        serve_http=serve_http,
        on_startup=[runtime.open],
        after_shutdown=[runtime.close],
    )
    return app, broker, runtime


def standard_checks(runtime: ServiceRuntime, broker: NatsBroker) -> dict[str, Check]:
    """A service's readiness: its role connects, its NATS connection is up, each durable it consumes
    exists and is bound to it, it handled an event within `max_silence_s`, and its own checks."""

    async def postgres() -> str:
        user = await runtime.pool.fetchval("SELECT current_user")
        return f"connected as {user}"

    async def nats() -> str:
        connection = broker._connection  # None before the broker's start
        if connection is None or not connection.is_connected:
            raise Failed("not connected")
        url = connection.connected_url  # host and port only: a URL's netloc may carry user:password
        return f"connected to {url.hostname}:{url.port}" if url else "connected"

    def bound(durable: str) -> Check:
        async def check() -> str:
            info = await broker.connection.jetstream().consumer_info(REGISTRY.bus.name, durable)
            if not info.push_bound:
                raise Failed(f"durable {durable} exists but no subscriber is bound to it")
            return f"bound, {info.num_pending} pending, {info.num_ack_pending} unacked"

        return check

    checks: dict[str, Check] = {"postgres": postgres, "nats": nats}
    for sub in broker.subscribers:
        durable = getattr(getattr(sub, "config", None), "durable_name", None)
        if durable:
            checks[f"durable:{durable}"] = bound(durable)
    if runtime.max_silence_s is not None and len(checks) > 2:  # it consumes something
        checks["lastEvent"] = lambda: _last_event(runtime)
    return checks | runtime.checks


async def _last_event(runtime: ServiceRuntime) -> str:
    bound = runtime.max_silence_s or 0.0
    since = metrics_of(runtime.service.value).seconds_since_any()
    if since is None:
        started = time.monotonic() - (runtime.opened_at or time.monotonic())
        if started > bound:
            raise Failed(f"no event handled in the {started:.0f} s since start (bound {bound:g} s)")
        return f"no event yet, {started:.0f} s since start (bound {bound:g} s)"
    if since > bound:
        raise Failed(f"last event handled {since:.0f} s ago (bound {bound:g} s)")
    return f"last event handled {since:.1f} s ago (bound {bound:g} s)"


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

"""`gordon up`: servers (embedded where no URL is set), migrations, then a small supervisor
that runs the services until SIGINT/SIGTERM and shuts everything down cleanly.

Services are async callables taking the endpoints; later issues add theirs to SERVICES.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from gordon import platform
from gordon import services as catalog
from gordon.migrate import upgrade
from gordon.runtime.keeper import keep_running
from gordon.runtime.servers import Endpoints, running_servers
from gordon.stopping import until_cancelled
from gordon.view import live_view
from settings import endpoints as endpoints_file
from settings.endpoints import RunEndpoints
from settings.environment import Settings, redact_password
from settings.errors import GordonError

Service = Callable[[Endpoints], Awaitable[None]]

SERVICES: tuple[Service, ...] = (platform.drain, platform.projections)
"""What always runs: the outbox drain and the projection runners."""


def platform_services(names: Sequence[str], *, demo: bool, view: bool) -> tuple[Service, ...]:
    """The drain and projections with their `/metrics`, then the named services (in start order), then
    the live view. Every HTTP port is fixed here (GORDON_<NAME>_PORT 0 becomes a free one), before any
    part starts, so the manager and the endpoints file know where each one listens."""
    chosen = [n for n in catalog.NAMES if n in names]
    settings = Settings.from_env(use_running=False)
    catalog.fix_ports(chosen, settings)
    workers = platform.workers_metrics(settings.http_host, catalog.fix_workers_port(settings))
    extra: tuple[Service, ...] = (_view,) if view else ()
    return (*SERVICES, workers, *(catalog.service(n, demo=demo) for n in chosen), *extra)


class ServiceError(GordonError):
    """A supervised service failed, or ended while no stop was asked for."""


def up(
    settings: Settings,
    services: Sequence[Service] = SERVICES,
    *,
    demo: bool = False,
    secure: bool = True,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run until stopped; 0 after a clean stop, 130 when interrupted before ready.

    While it runs, GORDON_DATA_DIR/endpoints.json tells other shells' commands where its servers are.
    """
    # Until the supervisor takes over, SIGTERM unwinds like Ctrl-C so servers stop in order.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    ready = False
    if not secure and settings.nats_url is None:
        print(
            "gordon up: --insecure: the embedded NATS runs WITHOUT authorization; "
            "any local process may publish and subscribe",
            file=err,
        )
    try:
        with running_servers(settings, secure=secure) as endpoints, _recorded(settings, endpoints):
            _migrate(endpoints.database_url, err)
            streams = asyncio.run(platform.prepare_streams(endpoints.nats_url, settings.stream_replicas))
            print("gordon up: streams " + ", ".join(f"{k} {v}" for k, v in streams.items()), file=err)
            live = asyncio.run(platform.prepare_projections(endpoints.database_url))
            print("gordon up: projections " + ", ".join(f"{k} g{v}" for k, v in live.items()), file=err)
            if demo:
                seeded = asyncio.run(catalog.seed_demo_bots(endpoints.database_url))
                print(f"gordon up: demo feed on, {seeded} demo bots added", file=err)
            database = redact_password(endpoints.database_url)
            print(f"gordon up: ready nats={endpoints.nats_url} database={database}", file=out)
            out.flush()
            ready = True
            keeper = _keeper(err) if endpoints.embedded else None
            asyncio.run(supervise(endpoints, (*services, *([keeper] if keeper else []))))
            print("gordon up: stopping", file=err)
    except KeyboardInterrupt:
        if not ready:
            print("gordon up: interrupted before ready", file=err)
            return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    print("gordon up: stopped", file=err)
    return 0


@contextmanager
def _recorded(settings: Settings, endpoints: Endpoints) -> Iterator[None]:
    """The endpoints file for other shells while the servers run; removed when they stop."""
    port = settings.manager_port
    manager = f"http://{settings.manager_host}:{port}" if port else None
    run = RunEndpoints(
        endpoints.nats_url,
        endpoints.database_url,
        os.getpid(),
        manager,
        endpoints.nats_passwords,
        http=catalog.http_urls(settings),
    )
    endpoints_file.write(settings.data_dir, run)
    try:
        yield
    finally:
        endpoints_file.remove(settings.data_dir, run.pid)


def _migrate(database_url: str, err: TextIO) -> None:
    upgrade(database_url)
    print("gordon up: database migrated to head", file=err)


async def supervise(endpoints: Endpoints, services: Sequence[Service]) -> None:
    """Run `services` concurrently until SIGINT or SIGTERM, then cancel them and wait.

    Raises ServiceError when a service fails or returns before a stop was asked for.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        tasks = [asyncio.create_task(_run(service, endpoints)) for service in services]
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in (stopping, *tasks):
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    for service, outcome in zip(services, outcomes, strict=True):
        name = getattr(service, "__qualname__", repr(service))
        if isinstance(outcome, asyncio.CancelledError):
            continue
        if isinstance(outcome, GordonError):
            raise ServiceError(str(outcome)) from outcome
        if isinstance(outcome, BaseException):
            raise ServiceError(f"service {name} failed: {outcome!r}") from outcome
        if not stop.is_set():
            raise ServiceError(f"service {name} ended before a stop was asked for")


def _keeper(err: TextIO) -> Service:
    """Restarts the embedded servers that exit; stops the platform when one keeps exiting."""

    def say(line: str) -> None:
        print(f"gordon up: {line}", file=err, flush=True)

    async def keep_servers(endpoints: Endpoints) -> None:
        await keep_running(endpoints.embedded, say)

    return keep_servers


async def _run(service: Service, endpoints: Endpoints) -> None:
    await service(endpoints)


async def _view(endpoints: Endpoints) -> None:
    await until_cancelled("view", lambda stop: live_view(endpoints, stop))

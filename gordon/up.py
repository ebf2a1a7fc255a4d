"""`gordon up`: servers (embedded where no URL is set), migrations, then a small supervisor
that runs the services until SIGINT/SIGTERM and shuts everything down cleanly.

Services are async callables taking the endpoints; later issues add theirs to SERVICES.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TextIO
from urllib.parse import urlsplit

from gordon import platform
from gordon import services as catalog
from gordon.migrate import upgrade
from gordon.runtime.keeper import keep_running
from gordon.runtime.servers import Endpoints, running_servers
from gordon.stopping import until_cancelled
from gordon.view import live_view
from services.http_server import url_of
from settings import endpoints as endpoints_file
from settings.endpoints import RunEndpoints
from settings.environment import Settings, redact_password
from settings.errors import GordonError

Service = Callable[[Endpoints], Awaitable[None]]

SERVICES: tuple[Service, ...] = (platform.drain, platform.projections)
"""What always runs: the outbox drain and the projection runners."""


def http_plan(names: Sequence[str], settings: Settings) -> dict[str, str]:
    """Fix the HTTP port of each named service and of the workers (a 0 becomes a free port) before any
    part starts, so the manager, the view and the endpoints file know where each listens; their URLs."""
    chosen = [n for n in catalog.NAMES if n in names]
    urls = catalog.fix_ports(chosen, settings)
    urls["workers"] = url_of(settings.http_host, catalog.fix_workers_port(settings))
    return urls


def platform_services(
    names: Sequence[str], *, demo: bool, view: bool, http: Mapping[str, str]
) -> tuple[Service, ...]:
    """The drain and projections with their `/metrics` (at `http["workers"]`), then the named services
    (in start order), then the live view (reading each service's readiness at `http`)."""
    chosen = [n for n in catalog.NAMES if n in names]
    workers = urlsplit(http["workers"])
    served = platform.workers_metrics(workers.hostname or "127.0.0.1", workers.port or 0)
    services = {n: u for n, u in http.items() if n != "workers"}
    extra: tuple[Service, ...] = (_view(services),) if view else ()
    return (*SERVICES, served, *(catalog.service(n, demo=demo) for n in chosen), *extra)


class ServiceError(GordonError):
    """A supervised service failed, or ended while no stop was asked for."""


def up(
    settings: Settings,
    services: Sequence[Service] = SERVICES,
    *,
    demo: bool = False,
    secure: bool = True,
    http: Mapping[str, str] | None = None,
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
        with running_servers(settings, secure=secure) as endpoints, _recorded(settings, endpoints, http):
            _migrate(endpoints.database_url, err)
            streams = asyncio.run(platform.prepare_streams(endpoints.nats_url, settings.stream_replicas))
            print("gordon up: streams " + ", ".join(f"{k} {v}" for k, v in streams.items()), file=err)
            live = asyncio.run(platform.prepare_projections(endpoints.database_url))
            print("gordon up: projections " + ", ".join(f"{k} g{v}" for k, v in live.items()), file=err)
            if demo:
                seeded = asyncio.run(catalog.seed_demo_bots(endpoints.database_url))
                print(f"gordon up: demo feed on, {seeded} demo bots added", file=err)
            database = redact_password(endpoints.database_url)
            if http:
                where = ", ".join(f"{name} {url}" for name, url in http.items())
                print(f"gordon up: /healthz and /metrics: {where}", file=err)
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
def _recorded(settings: Settings, endpoints: Endpoints, http: Mapping[str, str] | None) -> Iterator[None]:
    """The endpoints file for other shells while the servers run; removed when they stop."""
    port = settings.manager_port
    manager = f"http://{settings.manager_host}:{port}" if port else None
    manager = (http or {}).get("manager", manager)  # a port 0 was given a free one before anything started
    run = RunEndpoints(
        endpoints.nats_url,
        endpoints.database_url,
        os.getpid(),
        manager,
        endpoints.nats_passwords,
        http=dict(http or {}),
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


def _view(services: Mapping[str, str]) -> Service:
    async def view(endpoints: Endpoints) -> None:
        await until_cancelled("view", lambda stop: live_view(endpoints, stop, services=services))

    return view

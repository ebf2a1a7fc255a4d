"""What `gordon up` runs beside the servers: streams and projection generations first, then the drain and
the projection runners."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import nats
from nats.js import JetStreamContext
from nats.js.errors import APIError
from prometheus_client import make_asgi_app

from gordon.runtime.servers import Endpoints
from gordon.stopping import until_cancelled
from producers.drain.runner import connect_nats, run_drain
from projections import generations
from projections.base import Projection
from projections.catalog import PROJECTIONS
from projections.runner import ProjectionHalted, Runner
from registry.streams import ensure_streams
from schemas import REGISTRY
from services.http_server import HttpServer
from settings import nats_login, roles
from settings.dsn import with_user
from settings.environment import STREAM_REPLICAS
from settings.errors import GordonError

log = logging.getLogger("gordon.up")

RETRY_FIRST_S = 0.25
RETRY_MAX_S = 5.0


REPLICA_REFUSALS = frozenset({10005, 10023, 10074})
"""nats-server's err_codes for a replica count it cannot place: no suitable peers, insufficient
resources, replicas > 1 on a server that is not clustered."""


class StreamReplicasError(GordonError):
    """nats-server refused the replica count set by GORDON_STREAM_REPLICAS."""


async def prepare_streams(nats_url: str, replicas: int | None = None) -> dict[str, str]:
    """Create or update every declared stream, with `replicas` (GORDON_STREAM_REPLICAS) instead of the
    declared count when given; returns what happened to each."""
    client = await connect_nats(nats_url, "gordon-up", nats_login.ADMIN)
    js = client.jetstream()
    outcome: dict[str, str] = {}
    try:
        for spec in REGISTRY.streams:
            try:
                outcome |= await ensure_streams(js, [spec], replicas)
            except APIError as error:
                if replicas is None or error.err_code not in REPLICA_REFUSALS:
                    raise
                raise StreamReplicasError(
                    f"{STREAM_REPLICAS}={replicas}: nats-server refused stream {spec.name}: "
                    f"{error.description} (err_code {error.err_code}); "
                    "it can be at most the number of JetStream nodes in the cluster"
                ) from None
    finally:
        await client.close()
    return outcome


async def prepare_projections(database_url: str) -> dict[str, int]:
    """Make sure every projection has a live generation and its `trading.<view>`; returns them."""
    conn = await asyncpg.connect(database_url)
    try:
        return {name: await generations.ensure_live(conn, p) for name, p in PROJECTIONS.items()}
    finally:
        await conn.close()


async def projections(endpoints: Endpoints) -> None:
    """A live runner per projection, as `gordon_projector`; a halted one stays halted (and says so)."""

    async def main(stop: asyncio.Event) -> None:
        client = await connect_nats(endpoints.nats_url, "gordon-projections", nats_login.PROJECTOR)
        dsn = with_user(endpoints.database_url, roles.PROJECTOR)
        try:
            await asyncio.gather(*(_follow(p, dsn, client.jetstream(), stop) for p in PROJECTIONS.values()))
        finally:
            await client.close()

    await until_cancelled("projections", main)


TRANSIENT = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    nats.errors.Error,
)
"""What a restarting Postgres or NATS raises: the runner resumes from its tracking row after it."""


async def _follow(
    projection: Projection[Any, Any], dsn: str, js: JetStreamContext, stop: asyncio.Event
) -> None:
    """Run one projection until `stop`; ride through server restarts, stay halted on a halt."""
    delay = RETRY_FIRST_S
    while not stop.is_set():
        runner = Runner(projection, dsn, js, REGISTRY)
        try:
            await runner.run(stop)
        except ProjectionHalted as halted:
            log.error("%s; see `gordon projections status`, fix, then restart", halted)
            await stop.wait()
        except TRANSIENT as exc:
            delay = RETRY_FIRST_S if runner.stats.batches else min(delay * 2, RETRY_MAX_S)
            log.warning(
                "projection %s: %s: %s; resuming from its tracking row in %.1fs",
                projection.name,
                type(exc).__name__,
                exc,
                delay,
            )
            waiter = asyncio.ensure_future(stop.wait())  # not wait_for: 3.11's can swallow a cancel
            try:
                await asyncio.wait({waiter}, timeout=delay)
            finally:
                waiter.cancel()


def workers_metrics(host: str, port: int) -> Callable[[Endpoints], Awaitable[None]]:
    """Serve this process's default Prometheus registry (the drain's and projection runners' series,
    and the process's own) at `/metrics` on `host:port`, with prometheus_client's ASGI app."""

    async def serve(endpoints: Endpoints) -> None:
        server = HttpServer(make_asgi_app(), host, port, name="drain and projections metrics")
        await server.start()
        log.info("drain and projection metrics at %s/metrics", server.url)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    serve.__qualname__ = "workers-metrics"
    return serve


async def drain(endpoints: Endpoints) -> None:
    """The outbox drain, connected as the least-privileged `gordon_drain` role."""
    dsn = with_user(endpoints.database_url, roles.DRAIN)
    await until_cancelled("drain", lambda stop: run_drain(endpoints.nats_url, dsn, stop))

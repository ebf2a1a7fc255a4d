"""The manager API served by granian on its own thread and event loop, for tests that call it from
synchronous code (schemathesis): fresh streams, live projections, seeded rows, a drain holding the
leader lock, then the app on a free port until the test ends."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator

import nats as nats_py
from nats.js.errors import NotFoundError

from domain.orders import OrderStatus
from gordon.platform import prepare_projections
from producers.drain.config import DrainConfig
from producers.drain.runner import run_drain
from schemas import REGISTRY
from services.http_server import free_port
from services.manager.api import ApiDeps, create_app
from services.manager.api.health_policy import HealthPolicy
from services.manager.api.serve import ApiServer
from tests.conftest import small_spec
from tests.manager_api.conftest import TOKEN
from tests.manager_api.helpers import fetch
from tests.manager_api.seed import BOT_A, BOT_B, order, store
from tests.waiting import eventually

FAST = DrainConfig(
    batch_size=200, ack_timeout_s=2.0, retry_first_s=0.05, retry_max_s=0.5, standby_poll_s=0.05
)
HEALTH = HealthPolicy(durables=(), max_projection_lag=100_000, timeout_s=5.0)


async def _fresh_streams(nats_url: str) -> None:
    client = await nats_py.connect(nats_url)
    try:
        js = client.jetstream()
        for spec in REGISTRY.streams:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(spec.name)
            await js.add_stream(small_spec(spec).config())
    finally:
        await client.close()


async def _serve(
    database: str, nats_url: str, ready: concurrent.futures.Future[str], done: threading.Event
) -> None:
    await _fresh_streams(nats_url)
    await prepare_projections(database)
    statuses = list(OrderStatus)
    await store(
        database, [order(BOT_A if i % 2 else BOT_B, i, statuses[i % len(statuses)]) for i in range(12)], []
    )
    stop = asyncio.Event()
    drain = asyncio.create_task(run_drain(nats_url, database, stop, FAST))
    server = ApiServer(create_app(ApiDeps(database, nats_url, token=TOKEN, health=HEALTH)), port=free_port())
    try:
        await server.start()

        async def leading() -> bool:
            return bool(
                await fetch(database, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted")
            )

        await eventually(leading, "the drain to lead")
        ready.set_result(server.url)
        await asyncio.to_thread(done.wait)
    finally:
        stop.set()
        await asyncio.wait({drain}, timeout=20)
        await server.stop()


@contextlib.contextmanager
def background_api(database: str, nats_url: str) -> Iterator[str]:
    """The served app's base URL while the block runs."""
    ready: concurrent.futures.Future[str] = concurrent.futures.Future()
    done = threading.Event()

    def run() -> None:
        try:
            asyncio.run(_serve(database, nats_url, ready, done))
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=run, name="manager-api-test", daemon=True)
    thread.start()
    try:
        yield ready.result(timeout=60)
    finally:
        done.set()
        thread.join(timeout=60)

"""What both cluster leader-loss tests share: R3 streams on the cluster, and waiting out a leader's loss."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError

from gordon.runtime.nats_cluster import NatsCluster, stream_leader, wait_until_current
from producers.drain.runner import connect_nats
from registry.streams import ensure_streams
from schemas import REGISTRY
from tests.conftest import small_spec
from tests.outbox.conftest import count_unpublished

REPLICAS = 3

T = TypeVar("T")


async def settled(read: Callable[[], Awaitable[T]], within_s: float = 30.0) -> T:
    """`read()` asked again while the cluster answers 503 or times out: a node that rejoins after a kill
    can move a stream's leadership once more, and a JetStream API call in that moment finds no leader."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        try:
            return await read()
        except (NatsError, TimeoutError):
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.2)


async def replicated_streams(urls: str) -> NatsClient:
    """A client of the cluster once every stream has REPLICAS replicas and bus and history are current."""
    client = await connect_nats(urls, "test-cluster")
    js = client.jetstream()
    await ensure_streams(js, [small_spec(s) for s in REGISTRY.streams], replicas=REPLICAS)
    for stream in (REGISTRY.bus.name, REGISTRY.history.name):
        await wait_until_current(js, stream, REPLICAS, within_s=60)
    return client


async def stream_has(client: NatsClient, stream: str, n: int) -> bool:
    try:
        return (await client.jetstream().stream_info(stream)).state.messages >= n
    except Exception:  # no leader for a moment: ask again
        return False


async def elected_after_loss(cluster: NatsCluster, stream: str, old: str) -> str:
    """Ask the surviving nodes (a client of the killed one would first have to notice and reconnect)."""
    probe = await connect_nats(",".join(n.url for n in cluster.nodes if n.running), "test-probe")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while loop.time() < deadline:
            with contextlib.suppress(Exception):
                leader = await stream_leader(probe.jetstream(), stream)
                if leader is not None and leader != old:
                    return leader
            await asyncio.sleep(0.05)
    finally:
        await probe.close()
    raise AssertionError(f"no new {stream} leader after {old} was killed")


async def all_published(dsn: str) -> bool:
    return await count_unpublished(dsn) == 0

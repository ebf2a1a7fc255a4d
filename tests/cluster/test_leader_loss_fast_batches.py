"""The cluster leader-loss scenario on the drain's fast-batch path (test_leader_loss runs it per message):
R3 streams with `allow_batched`, a steady outbox load, SIGKILL the gordon-bus leader mid-load and restart
it. Every committed event reaches the bus and the history exactly once, in each order's version order, and
the drain keeps its leadership and quarantines nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest

from gordon.runtime.nats_cluster import NatsCluster, stream_leader, wait_until_current
from producers.drain.config import DrainConfig
from producers.drain.runner import connect_nats
from producers.drain.worker import Drain
from schemas import REGISTRY
from tests.cluster.leaders import (
    REPLICAS,
    all_published,
    elected_after_loss,
    replicated_streams,
    settled,
    stream_has,
)
from tests.cluster.load import (
    Load,
    copies_by_msg_id,
    exactly_once,
    order_pairs,
    outbox_event_ids,
    write_at_rate,
)
from tests.outbox.conftest import stored, wait_until

pytestmark = [pytest.mark.slow]

BUS = REGISTRY.bus.name
HISTORY = REGISTRY.history.name
ORDER_COUNT = 1500  # two events each: 3000 events
RATE = 200.0
DRAIN = DrainConfig(
    batch_size=200, fast_batch_size=200, batch_flow=50, ack_timeout_s=2.0, retry_first_s=0.05, retry_max_s=0.5
)


async def test_leader_loss_under_fast_batches_loses_and_duplicates_nothing(
    cluster: NatsCluster, database: str, dsn_for: Callable[[str, str], str]
) -> None:
    urls = ",".join(cluster.urls)
    client = await replicated_streams(urls)
    js = client.jetstream()
    assert (await js.stream_info(BUS)).config.allow_batched
    drain_client = await connect_nats(urls, "gordon-drain")
    drain = Drain(dsn_for(database, "gordon_drain"), drain_client, DRAIN)
    stop = asyncio.Event()
    draining = asyncio.create_task(drain.run(stop))
    load = Load()
    events = order_pairs(ORDER_COUNT)
    try:
        writing = asyncio.create_task(write_at_rate(database, events, RATE, load))
        await wait_until(lambda: stream_has(client, BUS, len(events) // 3), "a third of the load", 60)
        leader = await settled(lambda: stream_leader(js, BUS))
        assert leader is not None
        cluster.kill(leader)
        new_leader = await elected_after_loss(cluster, BUS, leader)
        await asyncio.sleep(2.0)  # a while under load with one node down
        cluster.restart(leader)
        await writing
        await wait_until(lambda: all_published(database), "every outbox row to be published", 90)
        for stream in (BUS, HISTORY):
            await wait_until_current(js, stream, REPLICAS, within_s=90)
        bus_count = (await settled(lambda: js.stream_info(BUS))).state.messages
        await wait_until(lambda: stream_has(client, HISTORY, bus_count), "history to source the bus", 60)
        assert not draining.done(), "the drain stopped by itself"
    finally:
        stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(draining, 20)
    committed = await outbox_event_ids(database)
    missing, duplicated = exactly_once(committed, await settled(lambda: copies_by_msg_id(js, BUS)))
    history_missing, history_duplicated = exactly_once(
        committed, await settled(lambda: copies_by_msg_id(js, HISTORY))
    )
    order_of = {str(e.event_id): (e.order_id, e.version) for e in events}
    versions: dict[object, list[int]] = {}
    for message in await stored(js, BUS):
        order, version = order_of[message.msg_id]
        versions.setdefault(order, []).append(version)
    for c in (client, drain_client):
        await c.close()
    print(
        f"\ncluster leader loss (fast batches): killed {leader}, new leader {new_leader}; {len(committed)} "
        f"events, bus {bus_count}; drain published {drain.stats.published}, batch fallbacks "
        f"{drain.stats.batch_fallbacks}, transport failures {drain.stats.transport_failures}, "
        f"leader terms {drain.stats.leader_terms}; writer retries {load.failed_commits}"
    )
    assert drain.stats.fast_batches, "the drain published fast batches"
    assert sorted(load.committed) == sorted(committed)
    assert len(committed) == len(events)
    assert (missing, duplicated) == ([], []), "the bus must hold every committed event exactly once"
    assert (history_missing, history_duplicated) == ([], [])
    assert bus_count == len(committed)
    assert all(v == [1, 2] for v in versions.values()), "each order's versions in order on the bus"
    assert drain.stats.leader_terms == 1
    assert drain.stats.quarantined == 0

"""A 3-node JetStream cluster, R3 streams, the real drain under a steady outbox load: SIGKILL the
`gordon-bus` leader node mid-load and restart it. Nothing is lost, nothing is stored twice, the
projection folds each event once and equals a rebuild, and the drain rides through on its own."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable

import asyncpg
import prometheus_client
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import PubAck

from gordon.platform import prepare_projections, projections
from gordon.runtime.nats_cluster import NatsCluster, stream_leader, wait_until_current
from gordon.runtime.servers import Endpoints
from producers.drain.config import DrainConfig
from producers.drain.runner import connect_nats
from producers.drain.worker import Drain
from projections import generations, tracking
from projections.orders import OrdersProjection
from projections.verify import verify
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
from tests.outbox.conftest import wait_until

pytestmark = [pytest.mark.slow]

ORDERS = OrdersProjection()
BUS = REGISTRY.bus.name
HISTORY = REGISTRY.history.name
ORDER_COUNT = 1500  # two events each: 3000 events
RATE = 200.0  # events per second: a 15 s load
DRAIN = DrainConfig(batch_size=200, ack_timeout_s=2.0, retry_first_s=0.05, retry_max_s=0.5)


class AckClock:
    """Wraps the drain's publish to note when each ack arrives (the drain itself is unchanged)."""

    def __init__(self, client: NatsClient, stream: str) -> None:
        self.js = client.jetstream()
        self.stream = stream
        self.acked: list[float] = []

    async def send(self, subject: str, payload: bytes, headers: dict[str, str]) -> asyncio.Future[PubAck]:
        future = await self.js.publish_async(subject, payload, headers=headers, stream=self.stream)
        future.add_done_callback(self._note)
        return future

    def _note(self, future: asyncio.Future[PubAck]) -> None:
        if not future.cancelled() and future.exception() is None:
            self.acked.append(time.monotonic())

    def gap_after(self, moment: float) -> float:
        """The longest time without an acked publish from `moment` on (the stall the kill caused)."""
        points = [moment, *sorted(t for t in self.acked if t >= moment)]
        return max((b - a for a, b in itertools.pairwise(points)), default=float("inf"))


@pytest.mark.timeout(300)
async def test_sigkilled_stream_leader_loses_and_duplicates_nothing(
    cluster: NatsCluster,
    database: str,
    dsn_for: Callable[[str, str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    urls = ",".join(cluster.urls)
    client = await replicated_streams(urls)
    js = client.jetstream()
    owner = await asyncpg.connect(database)
    await prepare_projections(database)
    projector = dsn_for(database, "gordon_projector")
    applied_before, skipped_before = _counted("applied"), _counted("duplicates")

    drain_client = await connect_nats(urls, "gordon-drain")
    clock = AckClock(drain_client, BUS)
    drain = Drain(dsn_for(database, "gordon_drain"), drain_client, DRAIN, send=clock.send)
    stop = asyncio.Event()
    draining = asyncio.create_task(drain.run(stop))
    folding = asyncio.create_task(projections(Endpoints(nats_url=urls, database_url=database)))
    load = Load()
    events = order_pairs(ORDER_COUNT)
    try:
        writing = asyncio.create_task(write_at_rate(database, events, RATE, load))
        await wait_until(lambda: stream_has(client, BUS, len(events) // 3), "a third of the load", 60)
        leader = await settled(lambda: stream_leader(js, BUS))
        assert leader is not None
        killed_at = time.monotonic()
        cluster.kill(leader)
        new_leader = await elected_after_loss(cluster, BUS, leader)
        elected_after = time.monotonic() - killed_at
        await asyncio.sleep(2.0)  # a while under load with one node down
        cluster.restart(leader)
        await writing
        await wait_until(lambda: all_published(database), "every outbox row to be published", 90)
        gap = clock.gap_after(killed_at)
        for stream in (BUS, HISTORY):
            await wait_until_current(js, stream, REPLICAS, within_s=90)
        bus_count = (await settled(lambda: js.stream_info(BUS))).state.messages
        await wait_until(lambda: stream_has(client, HISTORY, bus_count), "history to source the bus", 60)
        last = (await settled(lambda: js.stream_info(HISTORY))).state.last_seq
        await wait_until(lambda: _folded(owner, last), "the live projection to fold the history", 60)
        assert not draining.done(), "the drain stopped by itself"
        assert not folding.done(), f"the projection runners stopped: {folding}"
    finally:
        stop.set()
        folding.cancel()
        for task in (draining, folding):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 20)
    committed = await outbox_event_ids(database)
    missing, duplicated = exactly_once(committed, await settled(lambda: copies_by_msg_id(js, BUS)))
    history_missing, history_duplicated = exactly_once(
        committed, await settled(lambda: copies_by_msg_id(js, HISTORY))
    )
    state = await _tracking(owner)
    applied, skipped = _counted("applied") - applied_before, _counted("duplicates") - skipped_before
    resumed = sum("resuming from its tracking row" in r.getMessage() for r in caplog.records)
    checked = await settled(lambda: verify(database, projector, js, ORDERS))
    orders = await owner.fetchval("SELECT count(*) FROM trading.orders WHERE version = 2")
    await owner.close()
    for c in (client, drain_client):
        await c.close()
    print(
        f"\ncluster leader loss: killed {leader}, new leader {new_leader} after {elected_after:.2f}s; "
        f"longest publish gap {gap:.2f}s; {len(committed)} events, bus {bus_count}, "
        f"drain published {drain.stats.published} (duplicates dropped by JetStream "
        f"{drain.stats.duplicates}, transport failures {drain.stats.transport_failures}, "
        f"leader terms {drain.stats.leader_terms}); projection applied {applied:.0f}, duplicates skipped "
        f"{skipped:.0f}, runners resumed after an error {resumed} time(s); "
        f"writer retries {load.failed_commits}"
    )
    assert sorted(load.committed) == sorted(committed)
    assert len(committed) == len(events)
    assert (missing, duplicated) == ([], []), "the bus must hold every committed event exactly once"
    assert (history_missing, history_duplicated) == ([], [])
    assert bus_count == len(committed)
    assert drain.stats.leader_terms == 1, "the drain kept its leadership through the node loss"
    assert drain.stats.quarantined == 0
    assert skipped == 0, "no duplicate reached the projection"
    assert applied == len(committed), "each event folded once"
    assert (state.last_seq, state.processed_seq, state.halted_seq) == (last, last, None)
    assert checked.equal, "\n".join(checked.lines())
    assert checked.live_rows == ORDER_COUNT == orders


async def _tracking(owner: asyncpg.Connection) -> tracking.Tracking:
    live = await generations.live_generation(owner, ORDERS)
    assert live is not None
    return await tracking.read(owner, generations.schema_of(ORDERS, live))


async def _folded(owner: asyncpg.Connection, last: int) -> bool:
    return (await _tracking(owner)).last_seq >= last


def _counted(metric: str) -> float:
    """A projection counter of this process (the runners run in it) for the orders projection."""
    value = prometheus_client.REGISTRY.get_sample_value(
        f"gordon_projection_{metric}_total", {"projection": ORDERS.name}
    )
    return value or 0.0

"""The hub on a real stream: deliveries offered out of stream order (as three durables interleave them)
are released in stream order, each once; a message no durable delivered yet is taken from the stream;
what was stored before the feed started is history, never released live; a resume from behind the ring
reads the stream; a since whose messages are gone, or too many, is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest
from nats.aio.client import Client as NatsClient

from schemas.common import bot_token
from schemas.streams import BUS
from services.manager.api.live import LiveHub
from services.manager.api.live.client import Subscription
from services.manager.api.live.hub import GONE, BadSince
from services.manager.api.live.message import LiveMessage
from services.manager.api.live.stream import StreamReader
from tests.live_feed.feed import BOT, Bus, breaker, fill, order

FILLS = f"trading.fills.{bot_token(BOT)}"
ORDERS = f"trading.orders.{bot_token(BOT)}"


def seqs(messages: list[LiveMessage]) -> list[int]:
    return [m.seq for m in messages]


async def test_out_of_order_offers_are_released_in_stream_order_each_once(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    history = await bus.fill(fill(1))
    hub = LiveHub.over(lambda: nats)
    assert await hub.sequencer.start() == history
    f2, o3, f4, o5 = fill(2), order(3), fill(4), order(5)
    s2, s3, s4, s5 = await bus.fill(f2), await bus.order(o3), await bus.fill(f4), await bus.order(o5)

    await hub.offer(s4, FILLS, f4)  # the fills durable ran ahead of the orders durable
    await hub.sequencer.settled()
    assert seqs(hub.ring()) == [s2, s3, s4]  # s2 and s3 taken from the stream, no durable waited for
    await hub.offer(s3, ORDERS, o3)  # the orders durable catches up: duplicates, dropped
    await hub.offer(s2, FILLS, f2)
    await hub.offer(s5, ORDERS, o5)
    await hub.offer(s5, ORDERS, o5)  # a redelivery
    await hub.offer(history, FILLS, fill(1))  # stored before the start: history
    await hub.sequencer.settled()
    assert seqs(hub.ring()) == [s2, s3, s4, s5]
    assert hub.sequencer.held == 0
    taken, delivered = json.loads(hub.ring()[1].text), json.loads(hub.ring()[3].text)
    assert taken["data"]["orderId"] == str(o3.order_id)
    assert taken.keys() == delivered.keys()
    assert taken["data"].keys() == delivered["data"].keys()


async def test_a_message_waits_for_nothing_when_other_families_are_idle(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    hub = LiveHub.over(lambda: nats)
    await hub.sequencer.start()
    client = await hub.subscribe(None)
    trip = breaker(1)
    seq = await bus.breaker(trip)
    await hub.offer(seq, "risk.events.drawdown", trip)
    await hub.sequencer.settled()
    assert seqs(hub.ring()) == [seq]
    assert client.queued == 1
    assert hub.floor == seq - 1


async def first(client: Subscription, count: int) -> list[LiveMessage]:
    got: list[LiveMessage] = []
    async with asyncio.timeout(20):
        async for message in client.messages():
            got.append(message)
            if len(got) == count:
                break
    return got


async def test_resume_from_behind_the_ring_reads_the_stream_up_to_the_ring_then_goes_live(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    hub = LiveHub(StreamReader(lambda: nats), ring_size=3)
    await hub.sequencer.start()
    events = [fill(n) for n in range(1, 9)]
    stored = [await bus.fill(e) for e in events]
    for seq, event in zip(stored, events, strict=True):
        await hub.offer(seq, FILLS, event)
    await hub.sequencer.settled()
    assert seqs(hub.ring()) == stored[-3:]
    assert hub.floor == stored[-4]
    client = await hub.subscribe(stored[1])
    live = fill(9)
    live_seq = await bus.fill(live)
    await hub.offer(live_seq, FILLS, live)  # released while the client is still replaying
    got = await first(client, 7)
    assert seqs(got) == [*stored[2:], live_seq]
    assert [json.loads(m.text)["data"]["fillId"] for m in got[:6]] == [str(e.fill_id) for e in events[2:]]


async def test_since_gone_from_the_stream_or_beyond_the_replay_limit_is_refused(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    stored = [await bus.fill(fill(n)) for n in range(1, 7)]
    hub = LiveHub(StreamReader(lambda: nats), max_replay=3)
    with pytest.raises(BadSince, match="4 messages missed since 2, over 3") as over:
        await hub.subscribe(stored[1])
    assert over.value.code == GONE
    await nats.jetstream().purge_stream(BUS.name, seq=stored[3])  # the first three are gone
    with pytest.raises(BadSince, match=r"older than the stream \(first seq 4\)") as gone:
        await hub.subscribe(stored[0])
    assert gone.value.code == GONE
    client = await hub.subscribe(stored[2])  # nothing it missed is gone
    assert seqs(await first(client, 3)) == stored[3:]


@pytest.mark.parametrize(
    ("consumer_seq", "deliveries"),
    [(3, 1), (2, 2)],
    ids=["a delivery the client lost (consumer seq skips)", "a redelivery"],
)
async def test_only_provably_contiguous_deliveries_advance_without_the_stream(
    consumer_seq: int, deliveries: int, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    hub = LiveHub.over(lambda: nats)
    await hub.sequencer.start()
    first, lost, third = fill(1), fill(2), fill(3)
    s1, s2, s3 = await bus.fill(first), await bus.fill(lost), await bus.fill(third)
    await hub.offer(s1, FILLS, first, consumer_seq=1)
    await hub.sequencer.settled()  # released: the fills family is clear through s1
    await hub.offer(s3, FILLS, third, consumer_seq=consumer_seq, deliveries=deliveries)
    await hub.sequencer.settled()
    assert seqs(hub.ring()) == [s1, s2, s3]


async def test_contiguous_deliveries_are_released_in_order(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    hub = LiveHub.over(lambda: nats)
    await hub.sequencer.start()
    events = [fill(n) for n in range(1, 6)]
    stored = [await bus.fill(e) for e in events]
    for c, (seq, event) in enumerate(zip(stored, events, strict=True), start=1):
        await hub.offer(seq, FILLS, event, consumer_seq=c)
    await hub.sequencer.settled()
    assert seqs(hub.ring()) == stored

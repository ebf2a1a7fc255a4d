"""/ws through real granian, fed by the manager's durables: camelCase messages in stream order, resume
with since (from the ring, and from the stream when the ring has moved on), and bad since values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from nats.aio.client import Client as NatsClient
from websockets.exceptions import ConnectionClosed

from tests.live_feed.feed import (
    Bus,
    breaker,
    connect,
    fill,
    order,
    receive,
    running_manager,
    served,
)
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(90)


async def test_fills_orders_and_breaker_events_arrive_in_camel_case_and_stream_order(
    nats: NatsClient, nats_url: str, database: str, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    the_fill, the_order, the_trip = fill(1), order(2), breaker(3)
    async with (
        running_manager(nats_url, database) as manager,
        served(manager) as base,
        connect(f"{base}/ws") as ws,
    ):
        await eventually(lambda: manager.live.clients == 1, "the client to attach")
        seqs = [await bus.fill(the_fill), await bus.order(the_order), await bus.breaker(the_trip)]
        got = await receive(ws, 3)
    assert [m["seq"] for m in got] == seqs
    assert [m["kind"] for m in got] == ["fill", "order", "breaker"]
    assert got[0]["subject"] == f"trading.fills.{str(the_fill.bot_id).replace('-', '_')}"
    assert got[2]["subject"] == "risk.events.drawdown"
    first = got[0]["data"]
    assert first["fillId"] == str(the_fill.fill_id)
    assert first["botId"] == str(the_fill.bot_id)
    assert first["feeAsset"] == "USDT"
    assert first["schemaVersion"] == 1
    assert first["tsMs"] == the_fill.ts_ms
    assert got[1]["data"]["filledQty"] == "0"
    assert got[1]["data"]["orderType"] == "market"
    assert got[2]["data"]["latchId"] == "global"
    assert all("_" not in key for m in got for key in m["data"])


async def test_reconnect_with_since_replays_the_missed_messages_then_continues_live(
    nats: NatsClient, nats_url: str, database: str, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    async with running_manager(nats_url, database) as manager, served(manager) as base:
        async with connect(f"{base}/ws") as ws:
            await eventually(lambda: manager.live.clients == 1, "the client to attach")
            before = await bus.mixed(6)
            seen = [m["seq"] for m in await receive(ws, 3)]
        missed = await bus.mixed(6, start=7)
        await eventually(lambda: manager.live.sequencer.released == missed[-1], "the missed ones released")
        async with connect(f"{base}/ws?since={seen[-1]}") as ws:
            replayed = [m["seq"] for m in await receive(ws, 9)]
            later = await bus.mixed(3, start=13)
            live = [m["seq"] for m in await receive(ws, 3)]
    assert replayed == before[3:] + missed
    assert live == later


async def test_since_older_than_the_ring_reads_the_missed_messages_from_the_stream(
    nats: NatsClient, nats_url: str, database: str, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    history = await bus.mixed(5)  # stored before the manager starts: its feed starts after them
    async with running_manager(nats_url, database) as manager, served(manager) as base:
        async with connect(f"{base}/ws") as ws:
            await eventually(lambda: manager.live.clients == 1, "the client to attach")
            ring = await bus.mixed(4, start=6)
            assert [m["seq"] for m in await receive(ws, 4)] == ring
        assert manager.live.floor == history[-1]
        async with connect(f"{base}/ws?since={history[1]}") as ws:
            replayed = await receive(ws, 7)
    assert [m["seq"] for m in replayed] == history[2:] + ring
    assert replayed[0]["kind"] == "breaker"
    assert replayed[0]["data"]["message"] == "trip 3"


@pytest.mark.parametrize(
    ("since", "code", "says"),
    [
        ("abc", 4400, "since must be a stream sequence"),
        ("-3", 4400, "since must be a stream sequence"),
        ("999999", 4400, "ahead of the feed"),
    ],
)
async def test_a_bad_since_is_closed_with_a_reason(
    since: str,
    code: int,
    says: str,
    nats: NatsClient,
    nats_url: str,
    database: str,
    fresh_bus: Callable[[], Awaitable[None]],
) -> None:
    await fresh_bus()
    async with (
        running_manager(nats_url, database) as manager,
        served(manager) as base,
        connect(f"{base}/ws?since={since}") as ws,
    ):
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws, 1)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code
    assert says in closed.value.rcvd.reason

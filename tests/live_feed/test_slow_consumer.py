"""Backpressure: a client that stops reading is dropped with close code 4008 once its bounded queue
fills, while a reading client on the same feed gets everything; the hub holds at most the bound."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from consumers.metrics import registry_of
from services.manager.api.live.client import SLOW_CONSUMER
from tests.live_feed.feed import Bus, breaker, connect, running_manager, served
from tests.waiting import eventually

pytestmark = pytest.mark.timeout(120)

QUEUE = 8
LIMIT = 400
BIG = "x" * 60_000
"""A breaker message this long makes each feed message ~60 KB, so the socket buffers fill after some
dozens: then the server's send blocks and the client's queue fills."""


async def test_a_client_that_stops_reading_is_dropped_and_memory_stays_bounded(
    nats: NatsClient, nats_url: str, database: str, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    bus = Bus(nats.jetstream())
    drops_before = slow_drops()
    got: list[dict[str, Any]] = []
    async with running_manager(nats_url, database) as manager, served(manager) as base:
        manager.live.client_queue = QUEUE
        async with (
            connect(f"{base}/ws", max_queue=1, max_size=None) as stalled,
            connect(f"{base}/ws", max_size=None) as reader,
        ):
            await eventually(lambda: manager.live.clients == 2, "both clients to attach")
            reading = asyncio.create_task(read_into(reader, got))
            peak, sent = 0, 0
            while manager.live.clients == 2 and sent < LIMIT:
                await bus.breaker(breaker(sent + 1).model_copy(update={"message": BIG}))
                sent += 1
                peak = max(peak, *manager.live.queued())
                await caught_up(got, sent)  # the reader keeps up: only the stalled one falls behind
            dropped_at = sent
            # Reading again, the stalled client finds what its socket held, then the close frame.
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await stalled.recv()
            for version in range(sent + 1, sent + 11):
                await bus.breaker(breaker(version))
            await caught_up(got, sent + 10)
            reading.cancel()
    print(f"the stalled client was dropped after {dropped_at} messages of ~60 KB")
    assert dropped_at < LIMIT
    assert [m["data"]["version"] for m in got] == list(range(1, dropped_at + 11))
    assert peak <= QUEUE
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4008
    assert "slow consumer" in closed.value.rcvd.reason
    assert slow_drops() == drops_before + 1


async def caught_up(got: list[dict[str, Any]], count: int) -> None:
    await eventually(lambda: len(got) >= count, f"the reader to get {count} messages")


async def read_into(ws: ClientConnection, got: list[dict[str, Any]]) -> None:
    while True:
        got.append(json.loads(await ws.recv()))


def slow_drops() -> float:
    return (
        registry_of("manager").get_sample_value("gordon_live_drops_total", {"reason": SLOW_CONSUMER}) or 0.0
    )

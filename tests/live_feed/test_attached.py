"""The feed as `gordon manager` serves it: the manager service with the API attached (one process, one
loop), /ws fed by the service's own durables, the operator page at /."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NatsClient

from services.manager.api.attach import attach
from services.manager.service import build
from tests.live_feed.feed import Bus, connect, fill, order, receive
from tests.waiting import eventually


async def test_the_attached_api_serves_the_services_feed_and_the_page(
    nats: NatsClient, nats_url: str, database: str, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    service = build(nats_url=nats_url, database_url=database)
    server = attach(service, host="127.0.0.1", port=0, token=None, announce=lambda line: None)
    await service.app.start()
    try:
        await eventually(lambda: getattr(server.app.state, "backend", None) is not None, "the API to start")
        page = await asyncio.to_thread(read, f"{server.url}/")
        assert b"/operator/app.js" in page
        bus = Bus(nats.jetstream())
        async with connect(server.url.replace("http://", "ws://") + "/ws") as ws:
            await eventually(lambda: service.live.clients == 1, "the client to attach")
            seqs = [await bus.order(order(1)), await bus.fill(fill(2))]
            got = await receive(ws, 2)
        assert [(m["seq"], m["kind"]) for m in got] == list(zip(seqs, ["order", "fill"], strict=True))
    finally:
        await service.app.stop()


def read(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body

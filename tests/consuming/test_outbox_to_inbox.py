"""The whole path: publish_within -> drain -> gordon-bus -> Consumer -> handler with the inbox, once each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from nats.aio.client import Client as NatsClient

from consumers.consumer import Consumer
from consumers.inbox import first_time
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.trading import ORDERS, OrderEvent
from tests.outbox.conftest import order_event, running, write


async def test_events_written_in_the_outbox_reach_a_consumer_and_are_handled_once(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    order_id = uuid7()
    conn = await asyncpg.connect(database)
    try:
        for version in (1, 2, 3):
            await write(conn, order_event(order_id, version))
        async with running(database, nats):
            consumer = await Consumer.open(nats.jetstream(), REGISTRY, ORDERS, Service.MANAGER)
            handled: list[tuple[int, int, bool]] = []
            for _ in range(4):
                delivery = await consumer.next(timeout=20)
                assert isinstance(delivery.event, OrderEvent)
                async with conn.transaction():
                    fresh = await first_time(conn, consumer.durable, delivery.event.event_id)
                handled.append((delivery.event.version, delivery.deliveries, fresh))
                if (delivery.event.version, delivery.deliveries) == (2, 1):
                    await delivery.nak(delay=0.1)  # committed, but the ack never made it
                else:
                    await delivery.ack()
            await consumer.close()
    finally:
        await conn.close()
    assert handled[0] == (1, 1, True)  # stream order while nothing fails
    assert sorted(handled) == [(1, 1, True), (2, 1, True), (2, 2, False), (3, 1, True)]

"""Test-declared subjects with short ack waits and backoffs, and helpers to publish and read streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import nats as nats_py
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from producers.envelope import wire_headers
from registry.event import Event
from registry.registry import Registry
from registry.subject import ConsumerSpec, Service, Subject
from schemas import streams
from schemas.common import BOT_ID

BOT = "01935f0e_8c2a_7b3d_9f10_2b6c1d4e5f60"


class Tick(Event, version=1):
    n: int
    fail: bool = False


TICKS = Subject(
    "trading.tick.{bot_id}",
    Tick,
    producer=Service.EXECUTOR,
    params=(BOT_ID,),
    consumers=(
        ConsumerSpec(Service.MANAGER, "manager-tick", max_deliver=3, ack_wait_s=1.0, backoff_s=(0.3, 0.3)),
        ConsumerSpec(Service.RISK, "risk-tick", max_deliver=2, ack_wait_s=30.0, backoff_s=(1.0, 5.0)),
        ConsumerSpec(Service.BOT, "bot-tick", max_deliver=3, ack_wait_s=1.0, max_ack_pending=1),
    ),
)
TEST_REGISTRY = Registry((TICKS,), streams.ALL, streams.BUS, streams.HISTORY, streams.DLQ)
AT = TICKS.render({"bot_id": BOT})


async def publish(js: JetStreamContext, event: Tick, subject: str = AT) -> int:
    """Publish `event` as the drain would (Msg-Id = event id, schema headers); its stream sequence."""
    headers = wire_headers(str(event.event_id), Tick.NAME, Tick.VERSION, "executor", None)
    ack = await js.publish(subject, TEST_REGISTRY.codec(TICKS).encode(event), headers=headers)
    return ack.seq


async def publish_raw(js: JetStreamContext, data: bytes, msg_id: str, subject: str = AT) -> int:
    ack = await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id})
    return ack.seq


async def dead_letter_count(js: JetStreamContext) -> int:
    return (await js.stream_info(streams.DLQ.name)).state.messages


@pytest.fixture
async def bus(nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]) -> JetStreamContext:
    """Fresh gordon-bus, gordon-history and gordon-dlq; the JetStream context of the test's client."""
    await fresh_bus()
    return nats.jetstream()


@pytest.fixture
async def connect(nats_url: str) -> AsyncIterator[Callable[[], Awaitable[NatsClient]]]:
    """`await connect()`: another client, which the test may close abruptly (a consumer that dies)."""
    clients: list[NatsClient] = []

    async def open_client() -> NatsClient:
        client = await nats_py.connect(nats_url, connect_timeout=5, allow_reconnect=False)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        if not client.is_closed:
            await client.close()

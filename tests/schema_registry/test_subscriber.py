"""Registry-built FastStream subscribers against a real server: ack, redelivery, dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from uuid import UUID

from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from consumers.subscription import consumer_config, subscriber
from registry import headers as h
from registry.event import Event
from registry.registry import Registry
from registry.subject import ConsumerSpec, Service, StartAt, Subject
from schemas import streams
from schemas.common import BOT_ID, BOT_UUID

BOT = "01935f0e_8c2a_7b3d_9f10_2b6c1d4e5f60"


class Probe(Event, version=1):
    n: int
    fail: bool = False


PROBES = Subject(
    "trading.probe.{bot_id}",
    Probe,
    producer=Service.EXECUTOR,
    params=(BOT_ID,),
    consumers=(
        ConsumerSpec(Service.MANAGER, "manager-probe", max_deliver=3, ack_wait_s=5.0, backoff_s=(0.1, 0.1)),
    ),
)
TEST_REGISTRY = Registry((PROBES,), streams.ALL, streams.BUS, streams.HISTORY, streams.DLQ)


async def wait_for(condition: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + 20.0
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_handler_sees_events_in_order_failures_redeliver_then_dead_letter(
    nats_url: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    codec = TEST_REGISTRY.codec(PROBES)
    seen: list[int] = []

    broker = NatsBroker(nats_url, logger=None)

    @subscriber(broker, TEST_REGISTRY, PROBES, Service.MANAGER)
    async def handle(probe: Probe) -> None:
        seen.append(probe.n)
        if probe.fail:
            raise RuntimeError(f"cannot handle {probe.n}")

    at = PROBES.render({"bot_id": BOT})
    for n in range(5):
        event = Probe(n=n, fail=(n == 2))
        await js.publish(at, codec.encode(event), headers={h.MSG_ID: str(event.event_id)})
    await js.publish(at, b'{"schema_version": 1, "n": "two"}', headers={h.MSG_ID: "bad-1"})
    await js.publish(at, b"\x00garbage", headers={h.MSG_ID: "bad-2"})

    async with broker:
        await broker.start()
        await wait_for(lambda: seen.count(2) == 3 and {0, 1, 3, 4} <= set(seen))
        await wait_for_dlq(js, 3)

    assert [n for n in seen if n != 2] == [0, 1, 3, 4]
    letters = [await js.get_msg("gordon-dlq", seq) for seq in (1, 2, 3)]
    reasons = {(m.headers or {})[h.DLQ_REASON] for m in letters}
    assert "handler failed 3 times: RuntimeError: cannot handle 2" in reasons
    assert any(r.startswith("decode: invalid Probe at n") for r in reasons)
    assert any(r.startswith("decode: invalid Probe at $") for r in reasons)
    for letter in letters:
        headers = letter.headers or {}
        assert letter.subject == "dlq.manager-probe"
        assert headers[h.DLQ_SUBJECT] == at
        assert headers[h.DLQ_CONSUMER] == "manager-probe"
        assert headers[h.DLQ_STREAM] == "gordon-bus"
    consumer = await js.consumer_info("gordon-bus", "manager-probe")
    assert consumer.num_ack_pending == 0
    assert consumer.num_pending == 0


async def wait_for_dlq(js: JetStreamContext, count: int) -> None:
    for _ in range(400):
        if (await js.stream_info("gordon-dlq")).state.messages >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("dead letters did not arrive")


def test_consumer_config_binds_instance_and_filter() -> None:
    from schemas.market import KLINES

    spec = KLINES.consumers[0]
    values = {
        "bot_id": "01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60",
        "market": "perp",
        "symbol_lc": "ethusdt",
        "tf": "5m",
    }
    config = consumer_config(KLINES, spec, values)
    assert config.durable_name == "bot-01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60-perp-ethusdt-5m-klines"
    assert config.filter_subject == "market.klines.binance.perp.ethusdt.5m"
    assert spec.start_at is StartAt.NEW
    assert config.max_deliver == spec.max_deliver
    assert BOT_UUID.check(values["bot_id"]) == values["bot_id"]
    UUID(values["bot_id"])

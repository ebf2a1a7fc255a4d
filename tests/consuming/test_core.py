"""Both consumer surfaces run on one core: the same poison messages, fed to a FastStream push subscriber
and to the pull `Consumer` on a real server, leave the same dead letters, NAK delays and counters."""

from __future__ import annotations

import asyncio
import dataclasses

from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from consumers.consumer import Consumer
from consumers.core import ConsumeCore
from consumers.dlq_tools import StoredLetter, read_letters
from consumers.metrics import registry_of
from consumers.subscription import subscriber
from producers.metrics import template_of
from registry.registry import Registry
from registry.subject import ConsumerSpec, Service, Subject
from schemas import streams
from schemas.common import BOT_ID
from tests.consuming.conftest import BOT, Tick, publish_raw

BACKOFF_S = 0.4


def _spec(service: Service, durable: str) -> ConsumerSpec:
    return ConsumerSpec(service, durable, max_deliver=2, ack_wait_s=10.0, backoff_s=(BACKOFF_S,))


SHARED = Subject(
    "trading.shared.{bot_id}",
    Tick,
    producer=Service.EXECUTOR,
    params=(BOT_ID,),
    consumers=(_spec(Service.MANAGER, "manager-shared"), _spec(Service.RISK, "risk-shared")),
)
"""Two durables declared alike but for their names: the pull side is manager's, the push side risk's."""
SHARED_REGISTRY = Registry((SHARED,), streams.ALL, streams.BUS, streams.HISTORY, streams.DLQ)
AT = SHARED.render({"bot_id": BOT})
COUNTERS = (
    "gordon_events_consumed_total",
    "gordon_consume_errors_total",
    "gordon_dead_letters_total",
    "gordon_events_redelivered_total",
)


def counters(durable: str) -> list[float]:
    """The durable's counters, read from its service's own registry (what that service's /metrics serves)."""
    labels = {"subject": template_of(AT), "consumer": durable}
    registry = registry_of(durable.split("-")[0])
    return [registry.get_sample_value(name, labels) or 0.0 for name in COUNTERS]


async def publish_poison(js: JetStreamContext) -> tuple[int, int]:
    """Undecodable bytes, then an event every handler fails on, then a good one; the first two's seqs."""
    garbage = await publish_raw(js, b"\x00garbage", "poison-bytes", AT)
    codec = SHARED_REGISTRY.codec(SHARED)
    failing = await publish_raw(js, codec.encode(Tick(n=0, fail=True)), "poison-event", AT)
    await publish_raw(js, codec.encode(Tick(n=1)), "good-event", AT)
    return garbage, failing


async def letters(js: JetStreamContext, durable: str) -> list[StoredLetter]:
    """`durable`'s two dead letters once stored, with what only names the durable blanked out."""
    deadline = asyncio.get_running_loop().time() + 20
    while len(found := await read_letters(js, streams.DLQ.name, durable)) < 2:
        assert asyncio.get_running_loop().time() < deadline, f"{durable}: dead letters did not arrive"
        await asyncio.sleep(0.05)
    assert {letter.consumer for letter in found} == {durable}
    return [dataclasses.replace(letter, seq=0, consumer="", at_ms=0) for letter in found]


async def test_push_subscriber_and_pull_consumer_dead_letter_alike_through_one_core(
    nats_url: str, bus: JetStreamContext
) -> None:
    garbage_seq, failing_seq = await publish_poison(bus)
    before = {durable: counters(durable) for durable in ("manager-shared", "risk-shared")}
    loop = asyncio.get_running_loop()

    pulled: dict[int, list[float]] = {}
    async with await Consumer.open(bus, SHARED_REGISTRY, SHARED, Service.MANAGER) as consumer:
        assert isinstance(consumer.core, ConsumeCore)
        gave_up = False
        while not gave_up or 1 not in pulled:
            delivery = await consumer.next(timeout=10)
            pulled.setdefault(delivery.event.n, []).append(loop.time())
            if delivery.event.fail:
                gave_up = await delivery.nak(reason=f"RuntimeError: cannot handle tick {delivery.event.n}")
            else:
                await delivery.ack()

    pushed: dict[int, list[float]] = {}
    broker = NatsBroker(nats_url, logger=None)

    @subscriber(broker, SHARED_REGISTRY, SHARED, Service.RISK)
    async def handle(tick: Tick) -> None:
        pushed.setdefault(tick.n, []).append(loop.time())
        if tick.fail:
            raise RuntimeError(f"cannot handle tick {tick.n}")

    async with broker:
        await broker.start()
        push_letters = await letters(bus, "risk-shared")
        # Until the good event is acked (its handler returned before the ack).
        while counters("risk-shared")[0] == before["risk-shared"][0]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    pull_letters = await letters(bus, "manager-shared")

    for seen in (pulled, pushed):
        assert {n: len(times) for n, times in seen.items()} == {0: 2, 1: 1}
        first, second = seen[0]
        assert second - first >= BACKOFF_S * 0.9, "the NAK waited for the declared backoff"

    # Same letters but for the failure's wording: the push side names the handler it ran.
    assert [letter.stream_seq for letter in pull_letters] == [garbage_seq, failing_seq]
    assert pull_letters[0] == push_letters[0]
    assert pull_letters[0].reason.startswith("decode: invalid Tick at $")
    assert pull_letters[0].deliveries == 1
    assert pull_letters[1] == dataclasses.replace(push_letters[1], reason=pull_letters[1].reason)
    assert pull_letters[1].reason == "failed 2 times: RuntimeError: cannot handle tick 0"
    assert push_letters[1].reason == "handler failed 2 times: RuntimeError: cannot handle tick 0"
    assert pull_letters[1].deliveries == 2
    assert pull_letters[1].msg_id == "poison-event"

    # consumed, failed, dead-lettered, redelivered: counted by the core, alike for both.
    moved = {d: [a - b for a, b in zip(counters(d), before[d], strict=True)] for d in before}
    assert moved == {"manager-shared": [1, 2, 2, 1], "risk-shared": [1, 2, 2, 1]}

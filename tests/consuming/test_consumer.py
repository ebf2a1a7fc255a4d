"""`Consumer`/`Delivery` against a real nats-server: order, redelivery after a crash, NAKs, dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from consumers.consumer import Consumer, ConsumerClosedError
from consumers.delivery import SettledError
from registry import headers as h
from registry.subject import Service
from schemas import streams
from tests.consuming.conftest import (
    AT,
    TEST_REGISTRY,
    TICKS,
    Tick,
    dead_letter_count,
    publish,
    publish_raw,
)

Connect = Callable[[], Awaitable[NatsClient]]


async def open_manager(js: JetStreamContext) -> Consumer[Tick]:
    return await Consumer.open(js, TEST_REGISTRY, TICKS, Service.MANAGER)


async def test_deliveries_come_in_stream_order_decoded_with_their_metadata(bus: JetStreamContext) -> None:
    events = [Tick(n=n) for n in range(5)]
    seqs = [await publish(bus, event) for event in events]
    consumer = await open_manager(bus)
    assert consumer.applied == "created"
    got = []
    for _ in events:
        delivery = await consumer.next(timeout=5)
        assert isinstance(delivery.event, Tick)
        assert delivery.subject == AT
        assert delivery.deliveries == 1
        assert delivery.msg_id == str(delivery.event.event_id)
        assert delivery.headers[h.SCHEMA] == "Tick:v1"
        assert delivery.data == TEST_REGISTRY.codec(TICKS).encode(delivery.event)
        got.append((delivery.stream_seq, delivery.event))
        await delivery.ack()
    assert got == list(zip(seqs, events, strict=True))
    with pytest.raises(TimeoutError):
        await consumer.next(timeout=0.3)
    info = await bus.consumer_info(streams.BUS.name, "manager-tick")
    assert (info.num_ack_pending, info.num_pending) == (0, 0)
    await consumer.close()


async def test_one_delivery_in_flight_and_each_settles_once(bus: JetStreamContext) -> None:
    await publish(bus, Tick(n=1))
    await publish(bus, Tick(n=2))
    consumer = await open_manager(bus)
    first = await consumer.next(timeout=5)
    with pytest.raises(RuntimeError, match="unsettled"):
        await consumer.next(timeout=1)
    await first.ack()
    with pytest.raises(SettledError):
        await first.nak()
    second = await consumer.next(timeout=5)
    assert second.event.n == 2
    await second.ack()
    await consumer.close()


async def test_consumer_killed_before_ack_gets_the_message_again(
    bus: JetStreamContext, connect: Connect
) -> None:
    event = Tick(n=7)
    seq = await publish(bus, event)
    doomed = await connect()
    dying = await open_manager(doomed.jetstream())
    delivery = await dying.next(timeout=5)
    assert (delivery.stream_seq, delivery.deliveries) == (seq, 1)
    await doomed.close()  # no ack: the process died with the message in hand

    survivor = await open_manager(bus)
    assert survivor.applied == "unchanged"
    again = await survivor.next(timeout=10)  # after the 1 s ack wait
    assert (again.stream_seq, again.deliveries, again.event) == (seq, 2, event)
    await again.ack()
    with pytest.raises(TimeoutError):
        await survivor.next(timeout=1.5)  # acked: not delivered a third time
    await survivor.close()


async def test_order_survives_a_crash_when_the_durable_allows_one_unacked_message(
    bus: JetStreamContext, connect: Connect
) -> None:
    for n in range(3):
        await publish(bus, Tick(n=n))
    doomed = await connect()
    dying = await Consumer.open(doomed.jetstream(), TEST_REGISTRY, TICKS, Service.BOT)
    assert (await dying.next(timeout=5)).event.n == 0
    await doomed.close()

    consumer = await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.BOT)
    seen = []
    for _ in range(3):
        delivery = await consumer.next(timeout=10)
        seen.append((delivery.event.n, delivery.deliveries))
        await delivery.ack()
    assert seen == [(0, 2), (1, 1), (2, 1)]
    await consumer.close()


async def test_poison_message_is_dead_lettered_after_max_deliver_without_blocking_others(
    bus: JetStreamContext,
) -> None:
    poison = Tick(n=0, fail=True)
    poison_seq = await publish(bus, poison)
    for n in (1, 2, 3):
        await publish(bus, Tick(n=n))
    consumer = await open_manager(bus)
    handled: list[int] = []
    attempts: list[int] = []
    gave_up = False
    while not gave_up or len(handled) < 3:
        delivery = await consumer.next(timeout=10)
        if delivery.event.fail:
            attempts.append(delivery.deliveries)
            gave_up = await delivery.nak(reason=f"cannot handle tick {delivery.event.n}")
            if not gave_up:
                assert handled or attempts == [1], "a retried poison message holds up nothing behind it"
        else:
            handled.append(delivery.event.n)
            await delivery.ack()
    assert handled == [1, 2, 3]
    assert attempts == [1, 2, 3]

    assert await dead_letter_count(bus) == 1
    letter = await bus.get_msg(streams.DLQ.name, 1)
    headers = letter.headers or {}
    assert letter.subject == "dlq.manager-tick"
    assert letter.data == TEST_REGISTRY.codec(TICKS).encode(poison)
    assert headers[h.DLQ_REASON] == "failed 3 times: cannot handle tick 0"
    assert headers[h.DLQ_SUBJECT] == AT
    assert headers[h.DLQ_SEQUENCE] == str(poison_seq)
    assert headers[h.DLQ_DELIVERIES] == "3"
    assert headers[h.MSG_ID] == f"{poison.event_id}:manager-tick"
    with pytest.raises(TimeoutError):
        await consumer.next(timeout=1.0)  # termed: never redelivered
    await consumer.close()


async def test_undecodable_messages_go_to_the_dead_letters_at_once(bus: JetStreamContext) -> None:
    await publish_raw(bus, b"\x00garbage", "bad-bytes")
    await publish_raw(bus, b'{"schema_version": 1, "n": "two"}', "bad-field")
    await publish_raw(bus, b'{"schema_version": 9, "n": 1}', "bad-version")
    good = Tick(n=4)
    await publish(bus, good)
    consumer = await open_manager(bus)
    delivery = await consumer.next(timeout=5)
    assert delivery.event == good
    await delivery.ack()
    assert await dead_letter_count(bus) == 3
    letters = [await bus.get_msg(streams.DLQ.name, seq) for seq in (1, 2, 3)]
    reasons = [(m.headers or {})[h.DLQ_REASON] for m in letters]
    assert reasons[0].startswith("decode: invalid Tick at $")
    assert reasons[1].startswith("decode: invalid Tick at n")
    assert reasons[2] == "decode: unsupported schema_version 9 (known: [1])"
    assert [(m.headers or {})[h.DLQ_DELIVERIES] for m in letters] == ["1", "1", "1"]
    assert letters[0].data == b"\x00garbage"
    info = await bus.consumer_info(streams.BUS.name, "manager-tick")
    assert (info.num_ack_pending, info.num_pending) == (0, 0)
    await consumer.close()


async def test_term_dead_letters_with_the_reason_given(bus: JetStreamContext) -> None:
    await publish(bus, Tick(n=1))
    consumer = await open_manager(bus)
    delivery = await consumer.next(timeout=5)
    await delivery.term("order 42 refers to an unknown bot")
    letter = await bus.get_msg(streams.DLQ.name, 1)
    assert (letter.headers or {})[h.DLQ_REASON] == "order 42 refers to an unknown bot"
    with pytest.raises(TimeoutError):
        await consumer.next(timeout=1.5)
    await consumer.close()


async def test_a_message_never_settled_is_dead_lettered_not_lost(
    bus: JetStreamContext, connect: Connect
) -> None:
    seq = await publish(bus, Tick(n=9))
    for attempt in (1, 2, 3):  # max_deliver = 3 attempts, each one crashing before it settles
        client = await connect()
        delivery = await (await open_manager(client.jetstream())).next(timeout=10)
        assert (delivery.stream_seq, delivery.deliveries) == (seq, attempt)
        await client.close()
    consumer = await open_manager(bus)
    with pytest.raises(TimeoutError):
        await consumer.next(timeout=3)  # the 4th delivery goes to the dead letters, not to us
    letter = await bus.get_msg(streams.DLQ.name, 1)
    headers = letter.headers or {}
    assert headers[h.DLQ_SEQUENCE] == str(seq)
    assert headers[h.DLQ_REASON].startswith("never settled in 3 deliveries")
    await consumer.close()


async def test_nak_with_an_explicit_delay_redelivers_after_it(bus: JetStreamContext) -> None:
    await publish(bus, Tick(n=1))
    consumer = await open_manager(bus)
    loop = asyncio.get_running_loop()
    first = await consumer.next(timeout=5)
    assert not first.last_chance
    naked_at = loop.time()
    assert await first.nak(delay=0.8) is False
    again = await consumer.next(timeout=5)
    assert loop.time() - naked_at >= 0.7
    assert again.deliveries == 2
    await again.ack()
    await consumer.close()


async def test_async_iteration_ends_when_the_consumer_closes(bus: JetStreamContext) -> None:
    for n in range(3):
        await publish(bus, Tick(n=n))
    consumer = await open_manager(bus)
    seen = []
    async for delivery in consumer:
        seen.append(delivery.event.n)
        await delivery.ack()
        if len(seen) == 3:
            await consumer.close()
    assert seen == [0, 1, 2]
    with pytest.raises(ConsumerClosedError):
        await consumer.next(timeout=1)


async def test_close_stops_a_waiting_iteration(bus: JetStreamContext) -> None:
    consumer = await open_manager(bus)

    async def drain() -> list[int]:
        return [delivery.event.n async for delivery in consumer]

    task = asyncio.create_task(drain())
    await asyncio.sleep(0.3)
    await consumer.close()
    assert await asyncio.wait_for(task, 5) == []


async def test_durables_of_two_services_each_get_every_message(bus: JetStreamContext) -> None:
    await publish(bus, Tick(n=1))
    manager = await open_manager(bus)
    risk = await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.RISK)
    assert risk.durable == "risk-tick"
    for consumer in (manager, risk):
        delivery = await consumer.next(timeout=5)
        assert delivery.event.n == 1
        await delivery.ack()
        await consumer.close()
    for durable in ("manager-tick", "risk-tick"):  # ack() waited for the server's confirmation
        info = await bus.consumer_info(streams.BUS.name, durable)
        assert (info.num_ack_pending, info.num_pending, info.ack_floor.stream_seq) == (0, 0, 1)

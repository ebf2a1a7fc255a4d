"""Garbage on a real bus: a consumer fed it keeps running, each garbage message lands in gordon-dlq with
its decode reason, and the good message behind them is handled. Fixed seed, both consumer paths (the
pull `Consumer` and the registry-built FastStream subscriber the services run)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from bench.samples import samples
from consumers.consumer import Consumer
from consumers.dlq_tools import StoredLetter, read_letters
from consumers.subscription import subscriber
from registry import headers as h
from registry.codec import DecodeError
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import bot_token
from schemas.trading import FILLS, Fill
from tests.fuzzing.garbage import Raw, dump, nested

SEED = 8


def garbage(seed: int, max_payload: int) -> list[bytes]:
    """A fixed set of hostile Fill payloads: one of each kind the decoder fuzzing covers."""
    rng = random.Random(seed)
    valid = json.loads(REGISTRY.codec(FILLS).encode(samples()[Fill]))

    def fill(**changes: Any) -> bytes:
        return dump({**valid, **changes}).encode()

    without_order = {k: v for k, v in valid.items() if k != "order_id"}
    return [
        rng.randbytes(64),
        rng.randbytes(700),
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * 1_000_000,
        b"[1, 2]",
        b"null",
        fill(schema_version=2),
        dump(without_order).encode(),
        fill(price=Raw("NaN")),
        fill(price=Raw("Infinity")),
        fill(qty="1e999999999"),
        fill(version=Raw("9" * 5000)),
        fill(fee_asset="US\x00DT"),
        fill(price="cheap", side="hold"),
        fill(fee_asset=Raw(nested(50_000, "{"))),
        fill(symbol="BTCUSDT").replace(b'"BTCUSDT"', b'"BTC\xffUSDT"'),
        b" " * (max_payload - 200),  # fits the bus; with a dead letter's headers it would not
    ]


def is_garbage(raw: bytes) -> bool:
    try:
        REGISTRY.codec(FILLS).decode(raw)
    except DecodeError:
        return True
    return False


async def publish_all(js: JetStreamContext, subject: str, payloads: list[bytes]) -> list[int]:
    seqs = []
    for i, raw in enumerate(payloads):
        ack = await js.publish(subject, raw, headers={h.MSG_ID: f"garbage-{SEED}-{i}"})
        seqs.append(ack.seq)
    return seqs


async def letters_of(js: JetStreamContext, durable: str, count: int) -> list[StoredLetter]:
    """The durable's dead letters, once `count` of them are stored (20 s at most)."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        letters = await read_letters(js, REGISTRY.dead_letters.name, durable)
        if len(letters) >= count or asyncio.get_running_loop().time() > deadline:
            return letters
        await asyncio.sleep(0.1)


def check_letters(letters: list[StoredLetter], seqs: list[int], payloads: list[bytes]) -> None:
    assert sorted(letter.stream_seq for letter in letters) == seqs, "each garbage message, once"
    by_seq = dict(zip(seqs, payloads, strict=True))
    for letter in letters:
        assert letter.reason.startswith("decode: "), letter.reason
        assert letter.stream == REGISTRY.bus.name
        original = by_seq[letter.stream_seq]
        if letter.headers.get(h.DLQ_TRUNCATED):
            assert letter.data == b""
            assert letter.headers[h.DLQ_TRUNCATED] == str(len(original))
        else:
            assert letter.data == original


async def test_a_pull_consumer_dead_letters_garbage_and_handles_the_next_event(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    payloads = garbage(SEED, nats.max_payload)
    assert all(is_garbage(p) for p in payloads)
    good = samples()[Fill]
    subject = FILLS.render({"bot_id": bot_token(good.bot_id)})
    seqs = await publish_all(js, subject, payloads)
    await js.publish(subject, REGISTRY.codec(FILLS).encode(good), headers={h.MSG_ID: str(good.event_id)})

    async with await Consumer.open(js, REGISTRY, FILLS, Service.MANAGER) as consumer:
        delivery = await consumer.next(timeout=30)
        assert delivery.event == good
        await delivery.ack()
        later = good.model_copy(update={"event_id": uuid7(), "version": 2})
        await js.publish(
            subject, REGISTRY.codec(FILLS).encode(later), headers={h.MSG_ID: str(later.event_id)}
        )
        assert (await consumer.next(timeout=30)).event == later, "the consumer keeps running"

    check_letters(await letters_of(js, consumer.durable, len(seqs)), seqs, payloads)


async def test_a_service_subscriber_dead_letters_garbage_and_handles_the_next_event(
    nats_url: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    payloads = garbage(SEED + 1, nats.max_payload)
    good = samples()[Fill]
    subject = FILLS.render({"bot_id": bot_token(good.bot_id)})
    seqs = await publish_all(js, subject, payloads)
    await js.publish(subject, REGISTRY.codec(FILLS).encode(good), headers={h.MSG_ID: str(good.event_id)})
    handled: list[Fill] = []
    broker = NatsBroker(nats_url, logger=None)

    @subscriber(broker, REGISTRY, FILLS, Service.RISK)
    async def handle(fill: Fill) -> None:
        handled.append(fill)

    async with broker:
        await broker.start()
        deadline = asyncio.get_running_loop().time() + 30
        while not handled and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        letters = await letters_of(js, "risk-fills", len(seqs))
    assert handled == [good]
    check_letters(letters, seqs, payloads)

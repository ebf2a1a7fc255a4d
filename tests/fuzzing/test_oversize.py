"""Oversized payloads are refused at publish with a clear error (subject, size, limit), on every path:
`publish_within`, `Publisher.publish`, and the drain for a row that bypassed them. The server counts
headers against max_payload and closes the connection instead of refusing, so every check counts them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import Header

from bench.samples import samples
from producers.channels import INTENTS
from producers.envelope import MAX_TRACE_ID, PublishRefused, seal
from producers.outbox import Outbox
from producers.publisher import NatsPublisher
from registry import headers as h
from registry.codec import MAX_EVENT_BYTES, MAX_PAYLOAD_BYTES
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.intents import OrderIntent
from tests.outbox.conftest import running, stored

BOT = Outbox(REGISTRY, Service.BOT)


def intent_of_size(size: int) -> OrderIntent:
    """An order intent whose encoding is exactly `size` bytes (its reason padded)."""
    base = samples()[OrderIntent]
    assert isinstance(base, OrderIntent)
    empty = len(base.model_copy(update={"reason": ""}).model_dump_json())
    return base.model_copy(update={"reason": "x" * (size - empty), "event_id": uuid7()})


def test_an_event_over_the_limit_is_refused_naming_subject_size_and_limit() -> None:
    event = intent_of_size(MAX_EVENT_BYTES + 1)
    with pytest.raises(PublishRefused) as info:
        seal(REGISTRY, Service.BOT, INTENTS(), event)
    message = str(info.value)
    assert message.startswith(INTENTS().concrete + ": ")
    assert f"payload is {MAX_EVENT_BYTES + 1} bytes" in message
    assert re.search(
        rf"over the {MAX_EVENT_BYTES}-byte limit \(max_payload {MAX_PAYLOAD_BYTES} less", message
    )


def test_the_largest_event_fits_max_payload_with_its_headers_on_the_bus() -> None:
    envelope = seal(REGISTRY, Service.BOT, INTENTS(), intent_of_size(MAX_EVENT_BYTES), "t" * MAX_TRACE_ID)
    headers = {**envelope.headers(), Header.EXPECTED_STREAM.value: REGISTRY.bus.name}
    assert len(envelope.payload) == MAX_EVENT_BYTES
    assert h.wire_size(envelope.payload, headers) <= MAX_PAYLOAD_BYTES


def test_a_trace_id_that_would_crowd_out_the_payload_is_refused() -> None:
    with pytest.raises(PublishRefused, match=rf"trace id of 9000 characters, over {MAX_TRACE_ID}"):
        seal(REGISTRY, Service.BOT, INTENTS(), intent_of_size(1000), "t" * 9000)


async def test_publish_within_refuses_before_anything_is_written(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        async with conn.transaction():
            with pytest.raises(PublishRefused, match=f"over the {MAX_EVENT_BYTES}-byte limit"):
                await BOT.publish_within(conn, INTENTS(), intent_of_size(MAX_EVENT_BYTES + 100))
        assert await conn.fetchval("SELECT count(*) FROM bus.outbox") == 0
    finally:
        await conn.close()


async def test_a_direct_publish_is_refused_against_the_servers_own_max_payload(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server configured below the default: the codec's limit passes, the server's refuses, clearly."""
    await fresh_bus()
    publisher = NatsPublisher(REGISTRY, Service.BOT, nats.jetstream())
    monkeypatch.setattr(nats, "_max_payload", 64 * 1024)
    with pytest.raises(PublishRefused) as info:
        await publisher.publish(INTENTS(), intent_of_size(100 * 1024))
    assert re.fullmatch(
        rf"{re.escape(INTENTS().concrete)}: message is \d+ bytes with its headers, "
        rf"over the server max_payload {64 * 1024}",
        str(info.value),
    )
    ack = await publisher.publish(INTENTS(), intent_of_size(1000))
    assert nats.is_connected
    assert ack.seq == 1


async def test_the_drain_quarantines_a_row_whose_headers_push_it_over_max_payload(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    """A row written around publish_within: the payload alone fits, with headers it does not. Sent, the
    server would drop the drain's connection on every resend; it is quarantined and the rest flows."""
    await fresh_bus()
    largest = intent_of_size(MAX_EVENT_BYTES)
    after = intent_of_size(500)
    conn = await asyncpg.connect(database)
    try:
        async with conn.transaction():
            await BOT.publish_within(conn, INTENTS(), largest)
        await conn.execute(
            "INSERT INTO bus.outbox (event_id, subject, payload, schema_name, schema_version, producer)"
            " VALUES ($1, $2, $3, 'OrderIntent', 1, 'bot')",
            uuid7(),
            INTENTS().concrete,
            b"{" + b" " * (MAX_PAYLOAD_BYTES - 50) + b"}",
        )
        async with conn.transaction():
            await BOT.publish_within(conn, INTENTS(), after)
        async with running(database, nats) as drain:
            deadline = asyncio.get_running_loop().time() + 30
            while await conn.fetchval(
                "SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL AND quarantined_at_ms IS NULL"
            ):
                assert asyncio.get_running_loop().time() < deadline, "the outbox did not settle"
                await asyncio.sleep(0.05)
        reasons = await conn.fetch(
            "SELECT quarantine_reason FROM bus.outbox WHERE quarantined_at_ms IS NOT NULL"
        )
    finally:
        await conn.close()
    assert [r[0] for r in reasons] == ["payload exceeds the server's max_payload"]
    assert [m.msg_id for m in await stored(nats.jetstream())] == [str(largest.event_id), str(after.event_id)]
    assert drain.stats.transport_failures == 0, "the connection was never dropped"
    assert drain.stats.quarantined == 1

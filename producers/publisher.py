"""`Publisher`: the one small interface services publish through (outbox first, direct for the rest)."""

from __future__ import annotations

from typing import Protocol, TypeVar
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import Header, PubAck

from producers.envelope import check_fits, seal
from producers.outbox import Outbox
from registry.address import Address
from registry.event import Event
from registry.registry import Registry
from registry.subject import Service

E = TypeVar("E", bound=Event)

EXPECTED_STREAM = Header.EXPECTED_STREAM.value


class Publisher(Protocol):
    """Publish events of one service.

    `publish_within` is the default: the event is stored with the domain rows of the caller's
    transaction and the drain forwards it. `publish` goes straight to JetStream and exists only for
    events with no domain write; using it next to a database write is the dual-write bug the outbox
    prevents (the commit and the publish can diverge).
    """

    async def publish_within(
        self, tx: asyncpg.Connection, address: Address[E], event: E, *, trace_id: str | None = None
    ) -> UUID: ...

    async def publish(self, address: Address[E], event: E, *, trace_id: str | None = None) -> PubAck: ...


class NatsPublisher:
    """`Publisher` over a Postgres outbox and a JetStream context."""

    def __init__(self, registry: Registry, service: Service, js: JetStreamContext) -> None:
        self.registry = registry
        self.service = service
        self.js = js
        self.outbox = Outbox(registry, service)

    async def publish_within(
        self, tx: asyncpg.Connection, address: Address[E], event: E, *, trace_id: str | None = None
    ) -> UUID:
        """Store `event` in the outbox inside `tx` (see `Outbox.publish_within`)."""
        return await self.outbox.publish_within(tx, address, event, trace_id=trace_id)

    async def publish(self, address: Address[E], event: E, *, trace_id: str | None = None) -> PubAck:
        """Publish `event` to JetStream now and wait for the stream's ack (no outbox, no retry)."""
        envelope = seal(self.registry, self.service, address, event, trace_id)
        headers = envelope.headers()
        # The server's own limit, which may be below the codec's (js.publish adds Nats-Expected-Stream).
        wire = {**headers, EXPECTED_STREAM: self.registry.bus.name}
        check_fits(envelope.subject, envelope.payload, wire, self.js._nc.max_payload)
        return await self.js.publish(
            envelope.subject, envelope.payload, stream=self.registry.bus.name, headers=headers
        )

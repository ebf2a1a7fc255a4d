"""`Outbox.publish_within`: the event and the domain rows commit together, or neither does."""

from __future__ import annotations

import json
import time
from typing import TypeVar
from uuid import UUID

import asyncpg

from producers.envelope import Envelope, PublishRefused, seal
from producers.tracing import current_traceparent
from registry import headers as h
from registry.address import Address
from registry.event import Event
from registry.registry import Registry
from registry.subject import Service

E = TypeVar("E", bound=Event)

INSERT = """
INSERT INTO bus.outbox
    (event_id, subject, payload, schema_name, schema_version, producer, trace_id, created_at_ms, headers)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
"""


class Outbox:
    """Writes a service's events into `bus.outbox` inside the caller's transaction."""

    def __init__(self, registry: Registry, service: Service) -> None:
        self.registry = registry
        self.service = service

    async def publish_within(
        self,
        tx: asyncpg.Connection,
        address: Address[E],
        event: E,
        *,
        trace_id: str | None = None,
        actor: str | None = None,
    ) -> UUID:
        """Insert `event` for `address` in `tx`'s open transaction; returns its event id.

        `trace_id` defaults to the `traceparent` of the current span, so the trace goes on on the bus;
        `actor`, for an event an operator initiated, travels as the Gordon-Actor header.

        Refuses, before anything is written, what can never be published: another service's subject,
        a subject outside the stream, an oversized payload. Outside a transaction it refuses too: an
        event with no domain write belongs to `Publisher.publish`.
        """
        envelope = seal(self.registry, self.service, address, event, trace_id or current_traceparent())
        if not tx.is_in_transaction():
            raise PublishRefused(
                "publish_within needs the caller's open transaction (async with conn.transaction())"
            )
        await tx.execute(INSERT, *_row(envelope), _extra_headers(actor))
        return envelope.event_id

    async def publish_many_within(
        self, tx: asyncpg.Connection, items: list[tuple[Address[E], E]], *, trace_id: str | None = None
    ) -> list[UUID]:
        """Insert several events of one type in one round trip, in list order (ids follow it)."""
        trace_id = trace_id or current_traceparent()
        envelopes = [seal(self.registry, self.service, a, e, trace_id) for a, e in items]
        if not tx.is_in_transaction():
            raise PublishRefused("publish_many_within needs the caller's open transaction")
        await tx.executemany(INSERT, [(*_row(e), "{}") for e in envelopes])
        return [e.event_id for e in envelopes]


def _row(envelope: Envelope) -> tuple[object, ...]:
    return (
        envelope.event_id,
        envelope.subject,
        envelope.payload,
        envelope.schema_name,
        envelope.schema_version,
        envelope.producer.value,
        envelope.trace_id,
        time.time_ns() // 1_000_000,
    )


def _extra_headers(actor: str | None) -> str:
    """The row's extra headers (JSON), which the drain adds to the standard ones."""
    return json.dumps({h.ACTOR: actor}) if actor else "{}"

"""`Envelope`: an event made ready for the wire — subject, bytes and headers — checked before it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from registry import headers as h
from registry.address import Address
from registry.event import Event
from registry.registry import Registry
from registry.streams import covers
from registry.subject import Service

E = TypeVar("E", bound=Event)


MAX_TRACE_ID = 256
"""The longest trace id: the codec leaves 8 KiB of max_payload to headers, a DLQ reason takes 1,000."""


class PublishRefused(ValueError):
    """An event that can never be published (wrong producer, subject outside the stream, too large)."""


@dataclass(frozen=True)
class Envelope:
    """What the drain sends: Msg-Id is the event id, headers name schema, source service and trace."""

    event_id: UUID
    subject: str
    payload: bytes
    schema_name: str
    schema_version: int
    producer: Service
    trace_id: str | None

    def headers(self) -> dict[str, str]:
        """The NATS headers of this envelope."""
        return wire_headers(
            str(self.event_id), self.schema_name, self.schema_version, self.producer, self.trace_id
        )


def wire_headers(
    event_id: str, schema: str, version: int, producer: str, trace_id: str | None
) -> dict[str, str]:
    """Headers of one bus message; the one definition the drain and direct publishes share."""
    out = {
        h.MSG_ID: event_id,
        h.SCHEMA: f"{schema}:v{version}",
        h.SOURCE: producer,
        h.CONTENT_TYPE: h.JSON,
    }
    if trace_id:
        out[h.TRACE_ID] = trace_id
    return out


def check_fits(subject: str, payload: bytes, headers: dict[str, str], max_payload: int) -> None:
    """Refuse a message the server would refuse (it closes the connection on one over max_payload)."""
    size = h.wire_size(payload, headers)
    if size > max_payload:
        raise PublishRefused(
            f"{subject}: message is {size} bytes with its headers, over the server max_payload {max_payload}"
        )


def seal(
    registry: Registry, service: Service, address: Address[E], event: E, trace_id: str | None = None
) -> Envelope:
    """Check that `service` may publish `event` to `address` and that it fits the stream; encode it."""
    subject = address.subject
    if subject.producer is not service:
        raise PublishRefused(
            f"{service} may not publish {subject.template_text}: its producer is {subject.producer}"
        )
    if not any(covers(f, address.concrete) for f in registry.bus.filters):
        raise PublishRefused(f"{address.concrete} falls outside every subject of {registry.bus.name}")
    if trace_id is not None and len(trace_id) > MAX_TRACE_ID:
        raise PublishRefused(
            f"{address.concrete}: trace id of {len(trace_id)} characters, over {MAX_TRACE_ID} "
            "(it travels as a header, inside max_payload)"
        )
    try:
        payload = registry.codec(subject).encode(event, address.concrete)
    except ValueError as exc:
        raise PublishRefused(str(exc)) from None
    return Envelope(
        event_id=event.event_id,
        subject=address.concrete,
        payload=payload,
        schema_name=type(event).NAME,
        schema_version=type(event).VERSION,
        producer=service,
        trace_id=trace_id,
    )

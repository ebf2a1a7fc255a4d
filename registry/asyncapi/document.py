"""`build`: the whole AsyncAPI 3.0.0 document of a registry, as plain data in a stable key order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from registry.asyncapi.channels import channel_id, channel_object
from registry.asyncapi.errors import DocumentError
from registry.asyncapi.messages import add_messages
from registry.asyncapi.operations import receive_operation, send_operation
from registry.asyncapi.schemas import Json
from registry.asyncapi.streams import stream_object
from registry.registry import Registry
from registry.subject import Subject

ASYNCAPI_VERSION = "3.0.0"
DEFAULT_NATS_HOST = "localhost:4222"
DISTRIBUTION = "gordon-bus"

DESCRIPTION = (
    "Every subject of the Gordon platform's NATS JetStream bus, generated from the typed registry in "
    "`schemas/`. A channel is a subject template; its messages are the payload versions it accepts "
    "(the newest is the one published). `x-jetstream-*` extensions name the streams and durable "
    "consumers; durations are in seconds."
)


@dataclass
class _Parts:
    """The maps the subjects fill in, in registry order."""

    channels: Json = field(default_factory=dict)
    operations: Json = field(default_factory=dict)
    messages: Json = field(default_factory=dict)
    schemas: Json = field(default_factory=dict)


def build(registry: Registry, nats_host: str | Sequence[str] = DEFAULT_NATS_HOST) -> Json:
    """The AsyncAPI document of `registry`, with a NATS server at `nats_host` (or one per host of a
    cluster's list: `nats`, `nats-2`, ...)."""
    hosts = [nats_host] if isinstance(nats_host, str) else list(nats_host)
    parts = _Parts()
    for subject in registry:
        _add_subject(registry, subject, parts)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": DISTRIBUTION, "version": version(DISTRIBUTION), "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {("nats" if i == 1 else f"nats-{i}"): server(h) for i, h in enumerate(hosts, start=1)},
        "channels": parts.channels,
        "operations": parts.operations,
        "components": {"messages": parts.messages, "schemas": dict(sorted(parts.schemas.items()))},
        "x-jetstream-streams": [stream_object(spec) for spec in registry.streams],
    }


def _add_subject(registry: Registry, subject: Subject[Any], parts: _Parts) -> None:
    """Add the channel, messages and operations of one subject."""
    cid = channel_id(subject)
    if cid in parts.channels:
        raise DocumentError(f"{subject.template_text}: channel id {cid!r} is taken by another subject")
    message_ids = add_messages(subject, parts.messages, parts.schemas)
    parts.channels[cid] = channel_object(registry, subject, message_ids)
    found = [send_operation(subject, message_ids[-1])]
    found += [receive_operation(registry, subject, spec, message_ids) for spec in subject.consumers]
    for oid, operation in found:
        if oid in parts.operations:
            raise DocumentError(f"{subject.template_text}: operation id {oid!r} is declared twice")
        parts.operations[oid] = operation


def server(host: str) -> Json:
    """The NATS server object; the host is a deployment fact, so it is a parameter of `build`."""
    return {
        "host": host,
        "protocol": "nats",
        "description": "NATS with JetStream; the subjects are stored in the streams of x-jetstream-streams.",
    }

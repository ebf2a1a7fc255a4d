"""Operations: the producer's `send` and one `receive` per consumer durable, with JetStream settings."""

from __future__ import annotations

import re
from typing import Any

from registry.asyncapi.channels import channel_id, channel_ref, parameter
from registry.asyncapi.schemas import Json
from registry.registry import Registry
from registry.subject import ConsumerSpec, Subject

_BRACES = re.compile(r"[{}]")


def send_operation(subject: Subject[Any], newest: str) -> tuple[str, Json]:
    """The producer's publish: only the newest payload version is ever sent."""
    cid = channel_id(subject)
    operation: Json = {
        "action": "send",
        "channel": {"$ref": channel_ref(subject)},
        "title": f"{subject.producer.value} publishes {subject.template_text}",
        "summary": f"Published by the {subject.producer.value} service. {subject.summary}".strip(),
        "messages": [{"$ref": f"{channel_ref(subject)}/messages/{newest}"}],
        "x-gordon-service": subject.producer.value,
        "x-gordon-app": subject.producer.app,
    }
    return f"{cid}.send", operation


def receive_operation(
    registry: Registry, subject: Subject[Any], spec: ConsumerSpec, message_ids: list[str]
) -> tuple[str, Json]:
    """One consumer's durable: every registered payload version is accepted (older ones upcast)."""
    operation: Json = {
        "action": "receive",
        "channel": {"$ref": channel_ref(subject)},
        "title": f"{spec.service.value} consumes {subject.template_text} as {spec.durable}",
        "summary": f"Consumed by the {spec.service.value} service as durable `{spec.durable}`.",
    }
    if spec.description:
        operation["description"] = spec.description
    operation["messages"] = [{"$ref": f"{channel_ref(subject)}/messages/{mid}"} for mid in message_ids]
    operation |= jetstream_consumer(registry, subject, spec)
    return f"{channel_id(subject)}.receive.{_BRACES.sub('', spec.durable)}", operation


def jetstream_consumer(registry: Registry, subject: Subject[Any], spec: ConsumerSpec) -> Json:
    """The `x-` facts of a durable: stream, name template, filter and delivery settings (seconds)."""
    facts: Json = {
        "x-gordon-service": spec.service.value,
        "x-gordon-app": spec.service.app,
        "x-jetstream-stream": registry.stream_of(subject).name,
        "x-jetstream-durable": spec.durable,
    }
    if spec.instance:
        facts["x-jetstream-durable-parameters"] = {p.name: parameter(p) for p in spec.instance}
    facts |= {
        "x-jetstream-filter": subject.template.wildcard({name: f"{{{name}}}" for name in spec.binds}),
        "x-jetstream-start": spec.start_at.value,
        "x-jetstream-max-deliver": spec.max_deliver,
        "x-jetstream-ack-wait": spec.ack_wait_s,
        "x-jetstream-backoff": list(spec.backoff_s),
        "x-jetstream-max-ack-pending": spec.max_ack_pending,
    }
    return facts

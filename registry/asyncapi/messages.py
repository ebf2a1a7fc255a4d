"""Message objects: one per payload version (`Fill.v1`), with its payload schema and the bus headers."""

from __future__ import annotations

import json
import re
from typing import Any

from registry import headers as h
from registry.asyncapi.errors import DocumentError
from registry.asyncapi.schemas import Json, payload_schema
from registry.event import Event
from registry.subject import Service, Subject

COMPONENT_MESSAGES = "#/components/messages/"
EXAMPLE_EVENT_ID = "01935f0e-9000-7000-8000-0000000000e1"
"""The event_id of every example message (a producer makes a fresh UUIDv7 per event): fixed, so the
document is the same on every generation."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")


def docstring_text(model: type[Event]) -> tuple[str, str]:
    """(summary, description) of a payload from its docstring: the first sentence, and the whole text
    with each paragraph's lines joined (a docstring wraps at the code's line length, not the reader's)."""
    doc = (model.__doc__ or "").strip()
    paragraphs = [
        " ".join(line.strip() for line in block.splitlines()) for block in re.split(r"\n\s*\n", doc)
    ]
    description = "\n\n".join(p for p in paragraphs if p)
    summary = _SENTENCE_END.split(description, maxsplit=1)[0] if description else ""
    return summary, description


def message_id(model: type[Event]) -> str:
    """The message name of one payload version, such as `Fill.v1`."""
    return f"{model.NAME}.v{model.VERSION}"


def add_messages(subject: Subject[Any], messages: Json, schemas: Json) -> list[str]:
    """Add every payload version of `subject` to `messages` (once each); their ids, oldest first."""
    ids = []
    for model in subject.versions:
        mid = message_id(model)
        message = message_object(model, schemas, newest=model is subject.payload, producer=subject.producer)
        if mid in messages and messages[mid] != message:
            raise DocumentError(f"{subject.template_text}: message {mid} is declared twice, differently")
        messages[mid] = message
        ids.append(mid)
    return ids


def message_object(model: type[Event], schemas: Json, newest: bool, producer: Service) -> Json:
    """The message of one payload version; older versions are `deprecated` (accepted, never published)."""
    mid = message_id(model)
    message: Json = {"name": mid, "title": f"{model.NAME} v{model.VERSION}"}
    summary, description = docstring_text(model)
    if summary:
        message["summary"] = summary
    if description and description != summary:
        message["description"] = description
    message |= {
        "contentType": h.JSON,
        "headers": headers_schema(model),
        "payload": payload_schema(model, mid, schemas),
    }
    examples = message_examples(model, producer)
    if examples:
        message["examples"] = examples
    if not newest:
        message["deprecated"] = True
    message["x-gordon-schema"] = model.schema_id()
    return message


def message_examples(model: type[Event], producer: Service) -> list[Json]:
    """The payload's declared EXAMPLES (the ones the wire check encodes) as whole messages: the JSON the
    model encodes to, with the headers the drain sends. None declared: none shown (no made-up values)."""
    found: list[Json] = []
    examples = model.__dict__.get("EXAMPLES", ())
    for index, example in enumerate(examples, start=1):
        event = model.model_validate({"event_id": EXAMPLE_EVENT_ID, **example})
        found.append(
            {
                "name": f"{message_id(model)}.example{index}",
                "summary": _example_summary(example),
                "headers": {
                    h.MSG_ID: str(event.event_id),
                    h.SCHEMA: model.schema_id(),
                    h.SOURCE: producer.value,
                    h.CONTENT_TYPE: h.JSON,
                },
                "payload": json.loads(event.model_dump_json()),
            }
        )
    return found


def _example_summary(example: Any) -> str:
    """What distinguishes an example: the values of its enum-like text fields (kind, action, side...)."""
    words = [str(v) for k, v in example.items() if k in _NAMING_FIELDS]
    return ", ".join(words) if words else "a typical payload"


_NAMING_FIELDS = ("kind", "action", "command", "breaker", "side", "symbol", "tf", "market")


def headers_schema(model: type[Event]) -> Json:
    """The NATS headers every message of this payload version carries."""
    return {
        "type": "object",
        "required": [h.MSG_ID, h.SCHEMA, h.SOURCE, h.CONTENT_TYPE],
        "properties": {
            h.MSG_ID: {
                "type": "string",
                "format": "uuid",
                "description": "The payload's event_id (UUIDv7); JetStream deduplicates on it.",
            },
            h.SCHEMA: {
                "type": "string",
                "const": model.schema_id(),
                "description": "Payload name and version, `Name:vN`, read before the body is decoded.",
            },
            h.SOURCE: {
                "type": "string",
                "enum": [service.value for service in Service],
                "description": "The service that produced the event (the channel's x-gordon-producer).",
            },
            h.TRACE_ID: {
                "type": "string",
                "description": "W3C trace context of the span that produced the event: its trace id is "
                "carried from the cause of the event to its effects.",
            },
            h.ACTOR: {
                "type": "string",
                "description": "Who acted, on events an operator initiated (the request's actor).",
            },
            h.CONTENT_TYPE: {"type": "string", "const": h.JSON},
        },
    }

"""Message objects: one per payload version (`Fill.v1`), with its payload schema and the bus headers."""

from __future__ import annotations

from typing import Any

from registry import headers as h
from registry.asyncapi.errors import DocumentError
from registry.asyncapi.schemas import Json, payload_schema
from registry.event import Event
from registry.subject import Service, Subject

COMPONENT_MESSAGES = "#/components/messages/"


def message_id(model: type[Event]) -> str:
    """The message name of one payload version, such as `Fill.v1`."""
    return f"{model.NAME}.v{model.VERSION}"


def add_messages(subject: Subject[Any], messages: Json, schemas: Json) -> list[str]:
    """Add every payload version of `subject` to `messages` (once each); their ids, oldest first."""
    ids = []
    for model in subject.versions:
        mid = message_id(model)
        message = message_object(model, schemas, newest=model is subject.payload)
        if mid in messages and messages[mid] != message:
            raise DocumentError(f"{subject.template_text}: message {mid} is declared twice, differently")
        messages[mid] = message
        ids.append(mid)
    return ids


def message_object(model: type[Event], schemas: Json, newest: bool) -> Json:
    """The message of one payload version; older versions are `deprecated` (accepted, never published)."""
    mid = message_id(model)
    message: Json = {"name": mid, "title": f"{model.NAME} v{model.VERSION}"}
    if model.__doc__ and model.__doc__.strip():
        message["summary"] = model.__doc__.strip().splitlines()[0]
    message |= {
        "contentType": h.JSON,
        "headers": headers_schema(model),
        "payload": payload_schema(model, mid, schemas),
    }
    if not newest:
        message["deprecated"] = True
    message["x-gordon-schema"] = model.schema_id()
    return message


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

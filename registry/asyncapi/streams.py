"""The top-level `x-jetstream-streams`: every declared stream with the limits it is created with."""

from __future__ import annotations

from enum import Enum

from registry.asyncapi.schemas import Json
from registry.streams import StreamSpec


def stream_object(spec: StreamSpec) -> Json:
    """One stream as `ensure_streams` configures it: seconds, bytes; max_age 0 and max_bytes -1 = no limit."""
    config = spec.config()
    stream: Json = {"name": spec.name, "description": spec.description}
    if spec.subjects:
        stream["subjects"] = list(spec.subjects)
    if spec.sources_from:
        stream["sources"] = [{"name": spec.sources_from, "subjects": list(spec.sourced_subjects)}]
    stream |= {
        "retention": _value(config.retention),
        "storage": _value(config.storage),
        "max_age": spec.max_age_s,
        "max_bytes": spec.max_bytes,
        "discard": _value(config.discard),
        "duplicate_window": spec.duplicate_window_s,
        "replicas": spec.replicas,
        "deny_delete": spec.deny_delete,
    }
    return stream


def _value(member: Enum | None) -> str | None:
    return None if member is None else str(member.value)

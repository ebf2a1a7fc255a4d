"""Channel objects: one per subject template, with its parameters, messages and stream extensions."""

from __future__ import annotations

import re
from typing import Any

from registry.asyncapi.schemas import Json
from registry.registry import Registry
from registry.streams import covers
from registry.subject import MigrationWindow, Subject
from registry.tokens import Param

_BRACES = re.compile(r"[{}]")


def channel_id(subject: Subject[Any]) -> str:
    """The channel's key: its template without braces (`trading.fills.bot_id`), safe in a `$ref`."""
    return _BRACES.sub("", subject.template_text)


def channel_ref(subject: Subject[Any]) -> str:
    return f"#/channels/{channel_id(subject)}"


def channel_object(registry: Registry, subject: Subject[Any], message_ids: list[str]) -> Json:
    """The channel of `subject`: address, parameters, messages and the x-gordon / x-jetstream facts."""
    channel: Json = {"address": subject.template_text, "title": subject.name}
    if subject.summary:
        channel["summary"] = subject.summary
    if subject.template.names:
        channel["parameters"] = {name: parameter(subject.param(name)) for name in subject.template.names}
    channel["messages"] = {mid: {"$ref": f"#/components/messages/{mid}"} for mid in message_ids}
    channel["x-gordon-producer"] = subject.producer.value
    channel["x-gordon-tier"] = subject.tier.value
    channel["x-jetstream-stream"] = streams_of(registry, subject)
    channel["x-jetstream-filter"] = subject.template.wildcard()
    if subject.windows:
        channel["x-gordon-migration-window"] = [migration_window(w) for w in subject.windows]
    return channel


def parameter(param: Param) -> Json:
    """A channel (or durable-name) parameter: what it means, its values and the regex every value fits."""
    body: Json = {"description": param.description}
    if param.enum:
        body["enum"] = list(param.enum)
    if param.examples:
        body["examples"] = list(param.examples)
    body["x-gordon-pattern"] = param.pattern
    return body


def streams_of(registry: Registry, subject: Subject[Any]) -> Json:
    """The live stream that stores the subject first, and the history stream when it is sourced there."""
    streams: Json = {"live": registry.stream_of(subject).name}
    filter_ = subject.template.wildcard()
    if any(covers(pattern, filter_) for pattern in registry.history.filters):
        streams["history"] = registry.history.name
    return streams


def migration_window(window: MigrationWindow) -> Json:
    """Two payload versions accepted side by side until the window expires."""
    return {
        "old": window.old,
        "new": window.new,
        "expires": window.expires.isoformat(),
        "reason": window.reason,
    }

"""What the /ws feed carries: fills, order updates and breaker events, as camelCase JSON text.

Bus events stay snake_case; the keys are converted here, at the edge, once per message (every client
receives the same text).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic.alias_generators import to_camel

from registry.event import Event
from registry.subject import Subject
from schemas.risk import RISK_EVENTS
from schemas.trading import FILLS, ORDERS


class Kind(StrEnum):
    """The three subject families of the feed."""

    FILL = "fill"
    ORDER = "order"
    BREAKER = "breaker"


FAMILIES: dict[Kind, Subject[Any]] = {Kind.FILL: FILLS, Kind.ORDER: ORDERS, Kind.BREAKER: RISK_EVENTS}
"""Each kind's subject declaration; its wildcard (`trading.fills.*`) filters the stream."""


def family_filter(kind: Kind) -> str:
    """The stream filter of every subject of `kind`, e.g. `trading.fills.*`."""
    return FAMILIES[kind].template.wildcard({})


def kind_of(subject: str) -> Kind | None:
    """The family of a concrete subject, or None when it is none of the feed's."""
    for kind, declared in FAMILIES.items():
        if declared.template.parse(subject) is not None:
            return kind
    return None


def camel_keys(value: Any) -> Any:
    """`value` with every dict key in camelCase, recursively (values untouched)."""
    if isinstance(value, dict):
        return {to_camel(str(k)): camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


@dataclass(frozen=True)
class LiveMessage:
    """One feed message: its gordon-bus stream sequence and its JSON text, ready to send."""

    seq: int
    kind: Kind
    text: str

    @classmethod
    def of(cls, seq: int, kind: Kind, subject: str, event: Event) -> LiveMessage:
        """The feed message of `event`, stored at stream sequence `seq` on `subject`."""
        body = {
            "seq": seq,
            "kind": kind.value,
            "subject": subject,
            "data": camel_keys(event.model_dump(mode="json")),
        }
        return cls(seq, kind, json.dumps(body, separators=(",", ":")))

"""JetStream streams declared beside the subjects, and applied to a server idempotently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
    SubjectTransform,
)
from nats.js.errors import NotFoundError

HOUR = 3600.0
MIB = 1024 * 1024


@dataclass(frozen=True)
class StreamSpec:
    """A stream: its own subjects, or subjects sourced from another stream, and its limits."""

    name: str
    description: str
    subjects: tuple[str, ...] = ()
    sources_from: str | None = None
    sourced_subjects: tuple[str, ...] = ()
    max_age_s: float = 0.0
    max_bytes: int = -1
    discard: DiscardPolicy = DiscardPolicy.OLD
    duplicate_window_s: float = 120.0
    replicas: int = 1
    deny_delete: bool = False
    allow_batched: bool = False
    """Fast-ingest batch publishing (ADR-50, nats-server 2.14+): the drain's batches are acked every N."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def filters(self) -> tuple[str, ...]:
        """The subjects this stream stores, whether its own or sourced."""
        return self.subjects or self.sourced_subjects

    def config(self, replicas: int | None = None) -> StreamConfig:
        """The nats-py config for this stream; `replicas` overrides the declared count."""
        sources = None
        if self.sources_from:
            sources = [
                StreamSource(
                    name=self.sources_from,
                    subject_transforms=[SubjectTransform(src=s, dest=s) for s in self.sourced_subjects],
                )
            ]
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=list(self.subjects) or None,
            sources=sources,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=self.max_age_s,
            max_bytes=self.max_bytes,
            discard=self.discard,
            duplicate_window=self.duplicate_window_s,
            num_replicas=replicas or self.replicas,
            deny_delete=self.deny_delete,
            allow_batched=True if self.allow_batched else None,
        )


def covers(pattern: str, subject: str) -> bool:
    """Whether the NATS filter `pattern` matches every subject that `subject` (which may hold `*`) can."""
    ptoks, stoks = pattern.split("."), subject.split(".")
    for i, ptok in enumerate(ptoks):
        if ptok == ">":
            return len(stoks) > i
        if i >= len(stoks):
            return False
        if ptok == "*":
            if stoks[i] == ">":
                return False
            continue
        if ptok != stoks[i]:
            return False
    return len(ptoks) == len(stoks)


def overlaps(a: str, b: str) -> bool:
    """Whether two NATS filters (with `*`/`>`) can match one same subject."""
    atoks, btoks = a.split("."), b.split(".")
    for i in range(max(len(atoks), len(btoks))):
        x = atoks[i] if i < len(atoks) else None
        y = btoks[i] if i < len(btoks) else None
        if x == ">" or y == ">":
            return x is not None and y is not None
        if x is None or y is None:
            return False
        if x != y and "*" not in (x, y):
            return False
    return True


_COMPARED = (
    "subjects",
    "max_age",
    "max_bytes",
    "discard",
    "duplicate_window",
    "num_replicas",
    "description",
    "deny_delete",
    "allow_batched",
)

BATCHED_SINCE = (2, 14)
"""The first nats-server minor that knows `allow_batched`; older ones ignore it, so it is not compared."""


async def ensure_streams(
    js: JetStreamContext, specs: Sequence[StreamSpec], replicas: int | None = None
) -> dict[str, str]:
    """Create missing streams and update drifted ones; returns what happened to each by name."""
    outcome: dict[str, str] = {}
    version = js._nc.connected_server_version
    compared = _COMPARED if (version.major, version.minor) >= BATCHED_SINCE else _COMPARED[:-1]
    for spec in specs:
        wanted = spec.config(replicas)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(wanted)
            outcome[spec.name] = "created"
            continue
        current = info.config
        drift = [k for k in compared if _norm(getattr(current, k)) != _norm(getattr(wanted, k))]
        if _sources(current) != _sources(wanted):
            drift.append("sources")
        if drift:
            await js.update_stream(wanted)
            outcome[spec.name] = "updated: " + ", ".join(drift)
        else:
            outcome[spec.name] = "unchanged"
    return outcome


def _norm(value: object) -> object:
    if isinstance(value, list):
        return sorted(str(v) for v in value) or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sources(config: StreamConfig) -> list[tuple[str, tuple[str, ...]]]:
    return sorted(
        (s.name, tuple(sorted(t.src for t in (s.subject_transforms or [])))) for s in (config.sources or [])
    )

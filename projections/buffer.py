"""Events that arrived ahead of their predecessor, held until the gap fills (bounded, and timed)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from registry.event import Event

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Waiting:
    """One buffered event: its stream sequence, the event, when it arrived (monotonic seconds), and
    the version its aggregate had then."""

    seq: int
    event: Event
    since: float
    have: int


@dataclass
class Gap:
    """The oldest unfilled gap: which aggregate, what it has, what waits, and at which sequence."""

    key: Any
    have: int
    waiting: int
    seq: int
    age_s: float

    def __str__(self) -> str:
        return (
            f"aggregate {self.key} has version {self.have}, version {self.waiting} at seq {self.seq} "
            f"has waited {self.age_s:.1f}s for version {self.have + 1}"
        )


@dataclass
class Buffer(Generic[K]):
    """Per-aggregate waiting events keyed by version."""

    waiting: dict[K, dict[int, Waiting]] = field(default_factory=dict)
    size: int = 0

    def hold(self, key: K, version: int, entry: Waiting) -> None:
        versions = self.waiting.setdefault(key, {})
        if version not in versions:
            self.size += 1
        versions[version] = entry

    def take(self, key: K, version: int) -> Waiting | None:
        """The buffered event of `key` at `version`, removed from the buffer, if any."""
        versions = self.waiting.get(key)
        if not versions or version not in versions:
            return None
        entry = versions.pop(version)
        self.size -= 1
        if not versions:
            del self.waiting[key]
        return entry

    def lowest_seq(self) -> int | None:
        """The smallest stream sequence still waiting (the tracking row must stay below it)."""
        seqs = [e.seq for versions in self.waiting.values() for e in versions.values()]
        return min(seqs) if seqs else None

    def oldest(self, now: float) -> Gap | None:
        """The gap that has waited longest."""
        found: Gap | None = None
        for key, versions in self.waiting.items():
            version = min(versions)
            entry = versions[version]
            gap = Gap(key, entry.have, version, entry.seq, now - entry.since)
            if found is None or gap.age_s > found.age_s:
                found = gap
        return found

    def clear(self) -> None:
        self.waiting.clear()
        self.size = 0

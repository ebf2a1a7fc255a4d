"""`Projection`: what a read model declares — its events, keys, tables, and a pure fold over them.

The runner does the rest (stream order, batching, duplicates, buffering, tracking, halting). A
projection's fold is a plain reducer shared with the write side's state machine: no clock, no I/O.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import asyncpg

from registry.event import Event
from registry.subject import Subject

S = TypeVar("S")
K = TypeVar("K", bound=Hashable)


class Projection(ABC, Generic[K, S]):
    """A read model folded from one subject of the history stream.

    `S` is the state of one aggregate (it carries its `version`); `K` is the aggregate key.
    """

    name: str
    subject: Subject[Any]
    view: str
    """The read model's table name; `trading.<view>` is the view over the live generation."""

    @abstractmethod
    def ddl(self, schema: str) -> list[str]:
        """CREATE statements of the projection's table in generation schema `schema`."""

    @abstractmethod
    def key(self, event: Event) -> K:
        """The aggregate an event belongs to."""

    @abstractmethod
    def version(self, event: Event) -> int:
        """The event's per-aggregate version (gapless from 1)."""

    @abstractmethod
    def state_version(self, state: S) -> int:
        """The version of the last event folded into `state`."""

    def stream(self, event: Event) -> Hashable:
        """The key within which versions are gapless: the aggregate by default. A read model over
        several version streams (a bot's ledger over its positions) names the stream of each event."""
        return self.key(event)

    def applied(self, state: S, event: Event) -> int:
        """The version of `event`'s stream already folded into `state` (the aggregate's by default)."""
        return self.state_version(state)

    @abstractmethod
    def fold(self, state: S | None, event: Event) -> S:
        """The state after `event` (pure); raises on an event the state machine refuses."""

    @abstractmethod
    async def load(self, conn: asyncpg.Connection, schema: str, keys: Sequence[K]) -> dict[K, S]:
        """The stored states of `keys` (missing keys are absent)."""

    @abstractmethod
    async def save(self, conn: asyncpg.Connection, schema: str, states: Mapping[K, S]) -> None:
        """Upsert `states` into the projection's table."""

    @property
    def consumer(self) -> str:
        """The consumer name of the live runner's dead letters (on `dlq.projection-<name>`); no durable's."""
        return f"projection-{self.name}"

    @property
    def order_by(self) -> str:
        """The primary-key columns, for stable comparisons and hashes."""
        return "1"

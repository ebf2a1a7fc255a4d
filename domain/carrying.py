"""`Carrying`: an eventsourcing aggregate whose events carry the bus payload itself, folded by a reducer.

The payload model (in `schemas/`) is the event: the aggregate's eventsourcing events hold it rather than
re-listing its fields, and `fold` (the same pure reducer the projections use) applies it to `state`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from eventsourcing.domain import Aggregate

from domain.timestamps import ms_to_datetime


class Timed(Protocol):
    """A payload that says when it happened."""

    @property
    def ts_ms(self) -> int: ...


P = TypeVar("P", bound=Timed)
S = TypeVar("S")


@dataclass(frozen=True)
class Recorded(Aggregate.Event):
    """One payload recorded by its aggregate (for an order, every transition after submission)."""

    payload: Any

    def apply(self, aggregate: Any) -> None:
        aggregate.state = aggregate.fold(aggregate.state, self.payload)


class Carrying(Aggregate, Generic[P, S]):
    """Subclasses set `state` in `__init__` and define `fold(state, payload) -> state`."""

    state: S

    def fold(self, state: S, payload: P) -> S:
        raise NotImplementedError

    def _record(self, payload: P, ts_ms: int) -> None:
        """Trigger the event of `payload` (decided by the caller), stamped with its time, not the clock's."""
        self.trigger_event(Recorded, payload=payload, timestamp=ms_to_datetime(ts_ms))

    def _replay(self, payloads: Iterable[P]) -> None:
        """Apply stored payloads; `fold` checks each payload's own version against the state's."""
        for payload in payloads:
            Recorded(
                originator_id=self.id,
                originator_version=self.version + 1,
                timestamp=ms_to_datetime(payload.ts_ms),
                payload=payload,
            ).mutate(self)

    def pending_payloads(self) -> list[P]:
        """The payloads of the events not yet collected, in version order (does not clear them)."""
        return [vars(e)["payload"] for e in self.pending_events if "payload" in vars(e)]

    def collect_payloads(self) -> list[P]:
        """Collect the pending events (as eventsourcing's `collect_events`) as payloads."""
        payloads = self.pending_payloads()
        self.collect_events()
        return payloads

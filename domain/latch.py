"""The risk halt latch: a pure reducer over `BreakerEvent`s and the `RiskLatch` aggregate that emits them.

A trip halts (a trip while halted is recorded too); only an explicit resume clears the halt, and a resume
when not halted is refused. Every event advances the latch version, gapless from 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.carrying import Carrying
from domain.timestamps import ms_to_datetime
from domain.versions import check_next
from registry.ids import uuid7
from schemas.risk import Breaker, BreakerEvent, LatchAction

LATCH_TRANSITIONS: Mapping[tuple[bool, LatchAction], bool] = MappingProxyType(
    {
        (False, LatchAction.TRIP): True,
        (True, LatchAction.TRIP): True,
        (True, LatchAction.RESUME): False,
    }
)
"""(halted before, action) -> halted after."""

LATCH_NAMESPACE = UUID("5b0f3c1e-2a4d-4e8f-9c71-0d6a3b2e1f47")
"""Namespace of the aggregate ids of latches: uuid5(LATCH_NAMESPACE, latch_id)."""


class LatchNotHalted(ValueError):
    """A resume of a latch that is not halted."""

    def __init__(self, latch_id: str) -> None:
        self.latch_id = latch_id
        super().__init__(f"latch {latch_id}: resume refused, the latch is not halted")


@dataclass(frozen=True)
class LatchState:
    """The latch after its last event: `breaker`, `reason` and `changed_ms` describe that event;
    `trips` counts the trips since the last resume (0 when running)."""

    latch_id: str
    halted: bool
    breaker: Breaker | None
    reason: str
    version: int
    changed_ms: int
    trips: int


def open_latch(latch_id: str) -> LatchState:
    """A latch with no events: running, version 0."""
    return LatchState(latch_id, False, None, "", 0, 0, 0)


def latch_uuid(latch_id: str) -> UUID:
    """The eventsourcing aggregate id of a latch."""
    return uuid5(LATCH_NAMESPACE, latch_id)


def next_halted(latch_id: str, halted: bool, action: LatchAction) -> bool:
    """`halted` after `action`, or `LatchNotHalted`."""
    after = LATCH_TRANSITIONS.get((halted, action))
    if after is None:
        raise LatchNotHalted(latch_id)
    return after


def apply_latch(state: LatchState | None, event: BreakerEvent) -> LatchState:
    """The latch after `event`; refuses stale or gapped versions, another latch's event, a needless resume."""
    if state is None:
        state = open_latch(event.latch_id)
    if event.latch_id != state.latch_id:
        raise ValueError(f"latch {state.latch_id}: event of latch {event.latch_id} applied to it")
    check_next(f"latch {state.latch_id}", state.version, event.version)
    halted = next_halted(state.latch_id, state.halted, event.action)
    return replace(
        state,
        halted=halted,
        breaker=event.breaker,
        reason=event.message,
        version=event.version,
        changed_ms=event.ts_ms,
        trips=state.trips + 1 if event.action is LatchAction.TRIP else 0,
    )


class RiskLatch(Carrying[BreakerEvent, LatchState]):
    """The write side of one latch. Its creation (version 0) is not a bus event; trips and resumes are,
    each eventsourcing event carrying its `BreakerEvent` and folding it through `apply_latch`."""

    INITIAL_VERSION = 0

    @dataclass(frozen=True)
    class Opened(Aggregate.Created):
        latch_id: str

    @event(Opened)
    def __init__(self, latch_id: str) -> None:
        self.state = open_latch(latch_id)

    def fold(self, state: LatchState, payload: BreakerEvent) -> LatchState:
        return apply_latch(state, payload)

    @classmethod
    def open(cls, latch_id: str) -> RiskLatch:
        """A latch with no events yet (nothing pending: opening is not published)."""
        latch = cls._create(
            cls.Opened, id=latch_uuid(latch_id), timestamp=ms_to_datetime(0), latch_id=latch_id
        )
        latch.collect_events()
        return latch

    @property
    def halted(self) -> bool:
        return self.state.halted

    def trip(
        self,
        breaker: Breaker,
        value: float | None,
        threshold: float | None,
        message: str,
        *,
        ts_ms: int,
        bot_id: UUID | None = None,
    ) -> None:
        """A breaker fired: halt (again, if already halted)."""
        self._decide(
            LatchAction.TRIP,
            ts_ms,
            breaker=breaker,
            value=value,
            threshold=threshold,
            bot_id=bot_id,
            message=message,
        )

    def resume(self, actor: str, reason: str, *, ts_ms: int) -> None:
        """An operator clears the halt; refused with `LatchNotHalted` when the latch is running."""
        next_halted(self.state.latch_id, self.state.halted, LatchAction.RESUME)
        if not actor.strip() or not reason.strip():
            raise ValueError(f"latch {self.state.latch_id}: a resume needs an actor and a reason")
        self._decide(
            LatchAction.RESUME, ts_ms, breaker=Breaker.MANUAL, message=f"resumed by {actor}: {reason}"
        )

    def _decide(self, action: LatchAction, ts_ms: int, **details: Any) -> None:
        """Decide `action` and trigger its event; `details` are the payload's breaker, value, ... fields."""
        next_halted(self.state.latch_id, self.state.halted, action)
        payload = BreakerEvent(
            event_id=uuid7(ts_ms),
            latch_id=self.state.latch_id,
            version=self.state.version + 1,
            action=action,
            ts_ms=ts_ms,
            **details,
        )
        self._record(payload, ts_ms)

    @classmethod
    def from_events(cls, latch_id: str, events: Sequence[BreakerEvent]) -> RiskLatch:
        """Rebuild a latch from its stored `BreakerEvent`s (version order), with nothing pending; each is
        folded by `apply_latch` as it is replayed, so a bad history raises the reducer's own error."""
        latch = cls.open(latch_id)
        latch._replay(events)
        return latch

"""The risk halt latch: a pure reducer over `BreakerEvent`s and the `RiskLatch` aggregate that emits them.

A trip halts (a trip while halted is recorded too); only an explicit resume clears the halt, and a resume
when not halted is refused. Every event advances the latch version, gapless from 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

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


class RiskLatch(Aggregate):
    """The write side of one latch. Its creation (version 0) is not a bus event; trips and resumes are."""

    INITIAL_VERSION = 0

    class Event(Aggregate.Event):
        ACTION: ClassVar[LatchAction]

    @dataclass(frozen=True)
    class Opened(Aggregate.Created, Event):
        latch_id: str

    @dataclass(frozen=True)
    class Changed(Event):
        event_id: UUID
        ts_ms: int
        breaker: Breaker
        value: float | None
        threshold: float | None
        bot_id: UUID | None
        message: str

    class Tripped(Changed):
        ACTION = LatchAction.TRIP

    class Resumed(Changed):
        ACTION = LatchAction.RESUME

    @event(Opened)
    def __init__(self, id: UUID, latch_id: str) -> None:  # eventsourcing passes the id by this name
        self.state = open_latch(latch_id)

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
        next_halted(self.state.latch_id, self.state.halted, LatchAction.TRIP)
        self._tripped(
            event_id=uuid7(ts_ms),
            ts_ms=ts_ms,
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
        self._resumed(
            event_id=uuid7(ts_ms),
            ts_ms=ts_ms,
            breaker=Breaker.MANUAL,
            value=None,
            threshold=None,
            bot_id=None,
            message=f"resumed by {actor}: {reason}",
        )

    @event(Tripped)
    def _tripped(
        self,
        event_id: UUID,
        ts_ms: int,
        breaker: Breaker,
        value: float | None,
        threshold: float | None,
        bot_id: UUID | None,
        message: str,
    ) -> None:
        self._advance(
            self._payload(
                LatchAction.TRIP,
                self.version + 1,
                event_id,
                ts_ms,
                breaker,
                value,
                threshold,
                bot_id,
                message,
            )
        )

    @event(Resumed)
    def _resumed(
        self,
        event_id: UUID,
        ts_ms: int,
        breaker: Breaker,
        value: float | None,
        threshold: float | None,
        bot_id: UUID | None,
        message: str,
    ) -> None:
        self._advance(
            self._payload(
                LatchAction.RESUME,
                self.version + 1,
                event_id,
                ts_ms,
                breaker,
                value,
                threshold,
                bot_id,
                message,
            )
        )

    def _advance(self, payload: BreakerEvent) -> None:
        # Runs while the event is applied: self.version is still the previous one.
        self.state = apply_latch(self.state, payload)

    def _payload(
        self,
        action: LatchAction,
        version: int,
        event_id: UUID,
        ts_ms: int,
        breaker: Breaker,
        value: float | None,
        threshold: float | None,
        bot_id: UUID | None,
        message: str,
    ) -> BreakerEvent:
        return BreakerEvent(
            event_id=event_id,
            latch_id=self.state.latch_id,
            version=version,
            breaker=breaker,
            action=action,
            value=value,
            threshold=threshold,
            bot_id=bot_id,
            message=message,
            ts_ms=ts_ms,
        )

    def _payload_of(self, e: RiskLatch.Changed) -> BreakerEvent:
        return self._payload(
            e.ACTION,
            e.originator_version,
            e.event_id,
            e.ts_ms,
            e.breaker,
            e.value,
            e.threshold,
            e.bot_id,
            e.message,
        )

    def pending_payloads(self) -> list[BreakerEvent]:
        """The `BreakerEvent`s of the events not yet collected, in version order (does not clear them)."""
        return [self._payload_of(e) for e in self.pending_events if isinstance(e, RiskLatch.Changed)]

    def collect_payloads(self) -> list[BreakerEvent]:
        """Collect the pending events (as eventsourcing's `collect_events`) as `BreakerEvent`s."""
        payloads = self.pending_payloads()
        self.collect_events()
        return payloads

    @classmethod
    def from_events(cls, latch_id: str, events: Sequence[BreakerEvent]) -> RiskLatch:
        """Rebuild a latch from its stored `BreakerEvent`s (version order), with nothing pending."""
        folded: LatchState | None = open_latch(latch_id)
        for stored in events:
            folded = apply_latch(folded, stored)  # only to refuse bad input with the reducer's errors
        latch = cls.open(latch_id)
        classes = {c.ACTION: c for c in (cls.Tripped, cls.Resumed)}
        for stored in events:
            classes[stored.action](
                originator_id=latch.id,
                originator_version=stored.version,
                timestamp=ms_to_datetime(stored.ts_ms),
                event_id=stored.event_id,
                ts_ms=stored.ts_ms,
                breaker=stored.breaker,
                value=stored.value,
                threshold=stored.threshold,
                bot_id=stored.bot_id,
                message=stored.message,
            ).mutate(latch)
        return latch

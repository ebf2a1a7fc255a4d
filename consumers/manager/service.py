"""The manager service: for now it follows the risk latch's history on risk.events.* (durable manager-risk).

It keeps the last `keep` breaker events in memory, newest last, and logs each one; the control-plane API
that exposes them is the next step. It reads nothing of trading.risk_events: the bus is its source.
`faststream run consumers.manager.service:app` with GORDON_NATS_URL and GORDON_DATABASE_URL set.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from faststream import FastStream
from faststream.nats import NatsBroker

from consumers.service import ServiceRuntime, service_app, wall_clock_ms
from consumers.subscribers import manager_risk
from registry.subject import Service
from schemas.risk import BreakerEvent

log = logging.getLogger("gordon.manager")

DEFAULT_KEEP = 200


@dataclass
class RecentBreakerEvents:
    """The last `keep` breaker events, each once (a redelivery is recognised by its event id)."""

    keep: int = DEFAULT_KEEP
    _events: deque[BreakerEvent] = field(init=False)
    _ids: set[UUID] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        if self.keep < 1:
            raise ValueError(f"keep must be at least 1, got {self.keep}")
        self._events = deque()

    def add(self, event: BreakerEvent) -> bool:
        """Remember `event`; False when it is already held."""
        if event.event_id in self._ids:
            return False
        if len(self._events) == self.keep:
            self._ids.discard(self._events.popleft().event_id)
        self._events.append(event)
        self._ids.add(event.event_id)
        return True

    def list(self) -> list[BreakerEvent]:
        """The held events, oldest first."""
        return list(self._events)


@dataclass
class ManagerService:
    """The manager's app and what it has seen of the risk latch."""

    app: FastStream
    broker: NatsBroker
    runtime: ServiceRuntime
    recent: RecentBreakerEvents

    async def on_breaker_event(self, event: BreakerEvent) -> None:
        """Keep and log one latch change."""
        if self.recent.add(event):
            log.warning(
                "manager: latch %s v%s %s %s: %s",
                event.latch_id,
                event.version,
                event.breaker.value,
                event.action.value,
                event.message,
            )


def build(
    *,
    nats_url: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], int] = wall_clock_ms,
    keep: int = DEFAULT_KEEP,
) -> ManagerService:
    """The manager service; URLs default to the environment."""
    app, broker, runtime = service_app(
        Service.MANAGER, nats_url=nats_url, database_url=database_url, clock=clock
    )
    service = ManagerService(app, broker, runtime, RecentBreakerEvents(keep))
    manager_risk(broker)(service.on_breaker_event)
    return service


def __getattr__(name: str) -> FastStream:
    # `faststream run consumers.manager.service:app` builds from the environment; importing does not.
    if name == "app":
        return build().app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

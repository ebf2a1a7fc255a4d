"""The manager service: it follows the risk latch's history (durable manager-risk), fills (manager-fills)
and order updates (manager-orders), and feeds all three to the live /ws feed (`live`).

It keeps the last `keep` breaker events in memory, newest last, and logs each one; the control-plane API
exposes them. It reads nothing of trading.risk_events: the bus is its source.
`faststream run services.manager:app` with GORDON_NATS_URL and GORDON_DATABASE_URL set serves the API
(with `/healthz` and `/metrics`) on GORDON_MANAGER_HOST:GORDON_MANAGER_PORT (127.0.0.1:8083).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from faststream.nats import NatsBroker

from consumers.subscribers import manager_fills, manager_orders, manager_risk
from registry.event import Event
from registry.subject import Service
from schemas.risk import BreakerEvent
from schemas.trading import Fill, OrderEvent
from services.runtime import ServiceRuntime, service_app, wall_clock_ms
from services.service_app import ServiceApp

if TYPE_CHECKING:
    from services.manager.api.live import LiveHub
    from services.manager.api.serve import ApiServer

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
    """The manager's app, what it has seen of the risk latch, and the live feed it feeds."""

    app: ServiceApp
    broker: NatsBroker
    runtime: ServiceRuntime
    recent: RecentBreakerEvents
    live: LiveHub
    api: ApiServer | None = None
    """The HTTP API served while the app runs (None: built without it)."""

    async def on_breaker_event(self, event: BreakerEvent) -> None:
        """Keep and log one latch change; pass it to the live feed."""
        if self.recent.add(event):
            log.warning(
                "manager: latch %s v%s %s %s: %s",
                event.latch_id,
                event.version,
                event.breaker.value,
                event.action.value,
                event.message,
            )
        await self._feed(event)

    async def on_fill(self, event: Fill) -> None:
        """Pass one fill to the live feed."""
        await self._feed(event)

    async def on_order(self, event: OrderEvent) -> None:
        """Pass one order update to the live feed."""
        await self._feed(event)

    async def _feed(self, event: Event) -> None:
        # The stream sequence and subject come from the delivery being handled (FastStream's context);
        # a direct call outside a delivery has none and feeds nothing.
        message = self.broker.context.get_local("message")
        if message is None:
            return
        raw = message.raw_message
        meta = raw.metadata
        await self.live.offer(
            meta.sequence.stream,
            raw.subject,
            event,
            consumer_seq=meta.sequence.consumer,
            deliveries=meta.num_delivered,
        )

    async def stop_live(self) -> None:
        """Close the live feed's clients (1001) before the broker stops."""
        self.live.close()


def build(
    *,
    nats_url: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], int] = wall_clock_ms,
    keep: int = DEFAULT_KEEP,
    api: bool = True,
    demo: bool = False,
    announce: Callable[[str], None] = log.info,
) -> ManagerService:
    """The manager service; URLs default to the environment. With `api` its HTTP API is attached from
    the environment's settings (services.manager.api.attach); `demo` generates an operator token."""
    app, broker, runtime = service_app(
        Service.MANAGER, nats_url=nats_url, database_url=database_url, clock=clock, serve_http=False
    )
    # Imported here: services.manager.api imports this module (RecentBreakerEvents) at its import.
    from services.manager.api.live import LiveHub

    live = LiveHub.over(lambda: broker.connection)
    service = ManagerService(app, broker, runtime, RecentBreakerEvents(keep), live)
    manager_risk(broker)(service.on_breaker_event)
    manager_fills(broker)(service.on_fill)
    manager_orders(broker)(service.on_order)
    app.on_shutdown(service.stop_live)
    if api:
        from services.manager.api.attach import attach_from_settings

        service.api = attach_from_settings(service, demo=demo, announce=announce)
    return service

"""Prometheus metrics of the consume side, one registry per service: events handled, failed,
dead-lettered and redelivered per subject template and durable (counted by consumers.core), and when
each durable last handled an event (its service's readiness reads it too).

Each service has its own `CollectorRegistry` (`registry_of`), so a `gordon up` running all five in one
process still serves each service's own series on that service's `/metrics`, never another's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache

from prometheus_client import CollectorRegistry, Counter, Gauge

from producers.metrics import template_of

LABELS = ("subject", "consumer")


@cache
def registry_of(service: str) -> CollectorRegistry:
    """The Prometheus registry of `service` (one per process), served on that service's `/metrics`."""
    return CollectorRegistry(auto_describe=True)


@dataclass
class ConsumeMetrics:
    """The consume-side series of one service, in its registry."""

    registry: CollectorRegistry
    consumed: Counter = field(init=False)
    failed: Counter = field(init=False)
    dead_letters: Counter = field(init=False)
    redelivered: Counter = field(init=False)
    last_handled: Gauge = field(init=False)
    _handled_at: dict[str, float] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        on = self.registry
        self.consumed = Counter(
            "gordon_events_consumed", "Events a consumer handled and acked.", LABELS, registry=on
        )
        self.failed = Counter(
            "gordon_consume_errors",
            "Handler failures (the message is redelivered, or dead-lettered on its last attempt).",
            LABELS,
            registry=on,
        )
        self.dead_letters = Counter(
            "gordon_dead_letters", "Messages sent to the dead-letter stream.", LABELS, registry=on
        )
        self.redelivered = Counter(
            "gordon_events_redelivered",
            "Deliveries after a message's first (a NAK, an expired ack wait or a crashed consumer).",
            LABELS,
            registry=on,
        )
        self.last_handled = Gauge(
            "gordon_consumer_last_handled_timestamp_seconds",
            "When the durable last acked an event (Unix time).",
            ["consumer"],
            registry=on,
        )

    def acked(self, subject: str, consumer: str) -> None:
        """Count one event handled by `consumer` and remember when."""
        self.consumed.labels(template_of(subject), consumer).inc()
        self.last_handled.labels(consumer).set(time.time())
        self._handled_at[consumer] = time.monotonic()

    def handler_failed(self, subject: str, consumer: str) -> None:
        self.failed.labels(template_of(subject), consumer).inc()

    def dead_lettered(self, subject: str, consumer: str) -> None:
        self.dead_letters.labels(template_of(subject), consumer).inc()

    def redelivery(self, subject: str, consumer: str) -> None:
        self.redelivered.labels(template_of(subject), consumer).inc()

    def seconds_since_any(self) -> float | None:
        """Seconds since any durable of the service last acked an event in this process (None: none yet)."""
        return time.monotonic() - max(self._handled_at.values()) if self._handled_at else None


@cache
def of(service: str) -> ConsumeMetrics:
    """The consume metrics of `service`, created once per process in its registry."""
    return ConsumeMetrics(registry_of(service))

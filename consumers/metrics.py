"""Prometheus metrics of the bus, consume side: events handled, failed, dead-lettered and redelivered per
subject template and consumer (counted by consumers.core), and each durable's pending counts."""

from __future__ import annotations

from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge

from producers.metrics import template_of

CONSUMED = Counter("gordon_events_consumed", "Events a consumer handled and acked.", ["subject", "consumer"])
CONSUME_ERRORS = Counter(
    "gordon_consume_errors",
    "Handler failures (the message is redelivered, or dead-lettered on its last attempt).",
    ["subject", "consumer"],
)
DEAD_LETTERS = Counter(
    "gordon_dead_letters", "Messages sent to the dead-letter stream.", ["subject", "consumer"]
)
REDELIVERED = Counter(
    "gordon_events_redelivered",
    "Deliveries after a message's first (a NAK, an expired ack wait or a crashed consumer).",
    ["subject", "consumer"],
)
PENDING = Gauge(
    "gordon_consumer_pending",
    "Messages in the stream not yet delivered to the consumer.",
    ["stream", "consumer"],
)
ACK_PENDING = Gauge(
    "gordon_consumer_ack_pending", "Messages delivered and not yet acknowledged.", ["stream", "consumer"]
)


def consumed(subject: str, consumer: str) -> None:
    """Count one event handled by `consumer`."""
    CONSUMED.labels(template_of(subject), consumer).inc()


def consume_failed(subject: str, consumer: str) -> None:
    """Count one handler failure."""
    CONSUME_ERRORS.labels(template_of(subject), consumer).inc()


def dead_lettered(subject: str, consumer: str) -> None:
    """Count one message dead-lettered by `consumer`."""
    DEAD_LETTERS.labels(template_of(subject), consumer).inc()


def redelivered(subject: str, consumer: str) -> None:
    """Count one delivery of a message `consumer` was given before."""
    REDELIVERED.labels(template_of(subject), consumer).inc()


async def observe_pending(js: JetStreamContext, stream: str, consumer: str) -> int:
    """Read a durable's pending counts into the gauges; returns the undelivered count."""
    info = await js.consumer_info(stream, consumer)
    PENDING.labels(stream, consumer).set(info.num_pending or 0)
    ACK_PENDING.labels(stream, consumer).set(info.num_ack_pending or 0)
    return info.num_pending or 0

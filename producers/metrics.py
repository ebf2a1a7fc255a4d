"""Prometheus metrics of the bus, publish side (the drain's process): events published and failed per
subject template, rows quarantined, batches sent, and whether this process leads the drain.

Labels carry the subject *template* (`trading.fills.{bot_id}`), never the concrete subject, so the
series count stays bounded however many bots or symbols there are.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from functools import lru_cache

from prometheus_client import Counter, Gauge

from producers.drain.store import Row
from registry.registry import UnknownSubjectError
from schemas import REGISTRY

UNKNOWN = "unknown"
"""Label of a subject that matches no declaration (it can still reach the drain, to be quarantined)."""

PUBLISHED = Counter(
    "gordon_events_published", "Events JetStream acknowledged (duplicates included).", ["subject"]
)
PUBLISH_ERRORS = Counter(
    "gordon_publish_errors", "Publishes that failed, by kind (transport or rejected).", ["subject", "kind"]
)
QUARANTINED = Counter("gordon_outbox_quarantined", "Outbox rows set aside as never publishable.", ["subject"])
DRAIN_BATCHES = Counter("gordon_drain_batches", "Batches of outbox rows the drain published and settled.")
DRAIN_LEADER = Gauge("gordon_drain_leader", "1 while this process's drain holds the leader lock.")
DRAIN_TERMS = Counter("gordon_drain_leader_terms", "Times this process's drain became the leader.")


@lru_cache(maxsize=4096)
def template_of(subject: str) -> str:
    """The declared template a concrete subject belongs to (cached per concrete subject)."""
    try:
        return REGISTRY.match(subject).template_text
    except UnknownSubjectError:
        return UNKNOWN


def published(rows: Iterable[Row]) -> None:
    """Count rows JetStream stored, one increment per template of the batch."""
    for template, n in Tally(template_of(row.subject) for row in rows).items():
        PUBLISHED.labels(template).inc(n)


def publish_failed(subject: str, rejected: bool) -> None:
    """Count one failed publish: `rejected` by the server, else lost in transport (no ack)."""
    PUBLISH_ERRORS.labels(template_of(subject), "rejected" if rejected else "transport").inc()


def leading(now: bool) -> None:
    """This process's drain took (True) or gave up (False) the leadership."""
    DRAIN_LEADER.set(1 if now else 0)
    if now:
        DRAIN_TERMS.inc()


def quarantined(subject: str) -> None:
    """Count one row quarantined."""
    QUARANTINED.labels(template_of(subject)).inc()


BACKLOG = "SELECT pending, oldest_created_ms, quarantined, now_ms FROM bus.outbox_backlog()"
"""The outbox backlog (migration 0008's function: counts only, readable by the manager)."""

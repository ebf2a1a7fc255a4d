"""Prometheus metrics of the bus, publish side: events published and failed per subject template, rows
quarantined, and the outbox backlog read from Postgres when scraped.

Labels carry the subject *template* (`trading.fills.{bot_id}`), never the concrete subject, so the
series count stays bounded however many bots or symbols there are.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from functools import lru_cache

import psycopg
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

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


def quarantined(subject: str) -> None:
    """Count one row quarantined."""
    QUARANTINED.labels(template_of(subject)).inc()


BACKLOG = """
SELECT count(*), min(created_at_ms), (extract(epoch FROM clock_timestamp()) * 1000)::bigint
FROM bus.outbox WHERE published_at_ms IS NULL AND quarantined_at_ms IS NULL
"""
QUARANTINE_COUNT = "SELECT count(*) FROM bus.outbox WHERE quarantined_at_ms IS NOT NULL"


class OutboxCollector(Collector):
    """Backlog gauges queried from Postgres at each scrape: unpublished rows, the age of the oldest, and
    quarantined rows. A scrape that cannot reach the database yields no outbox samples (not zeros)."""

    def __init__(self, dsn: str, timeout_s: int = 2) -> None:
        self.dsn = dsn
        self.timeout_s = timeout_s

    def collect(self) -> Iterator[Metric]:
        try:
            with psycopg.connect(self.dsn, connect_timeout=self.timeout_s, autocommit=True) as conn:
                count, oldest_ms, now_ms = conn.execute(BACKLOG).fetchone() or (0, None, 0)
                row = conn.execute(QUARANTINE_COUNT).fetchone()
        except psycopg.Error:
            return
        backlog = GaugeMetricFamily("gordon_outbox_backlog", "Outbox rows committed and not yet published.")
        backlog.add_metric([], float(count))
        age = GaugeMetricFamily(
            "gordon_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when none)."
        )
        age.add_metric([], 0.0 if oldest_ms is None else max(now_ms - oldest_ms, 0) / 1000)
        stuck = GaugeMetricFamily("gordon_outbox_quarantined_rows", "Outbox rows quarantined, in total.")
        stuck.add_metric([], float(row[0] if row else 0))
        yield from (backlog, age, stuck)

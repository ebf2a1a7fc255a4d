"""Schema `bus`: the outbox that producers write in their own transaction and the drain forwards."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from migrations.tables.base import NOW_MS, Xid8, metadata

PRODUCERS: tuple[str, ...] = ("data", "bot", "executor", "risk", "manager")
"""Service names a row's `producer` may hold."""

outbox = sa.Table(
    "outbox",
    metadata,
    # An order key for the drain, never an identity: it restarts when `bus` is recreated.
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("payload", pg.BYTEA, nullable=False),
    sa.Column("headers", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("schema_name", sa.Text, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("producer", sa.Text, nullable=False),
    sa.Column("trace_id", sa.Text, nullable=True),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False, server_default=NOW_MS),
    sa.Column("txid", Xid8(), nullable=False, server_default=sa.text("pg_current_xact_id()")),
    sa.Column("published_at_ms", sa.BigInteger, nullable=True),
    sa.Column("quarantined_at_ms", sa.BigInteger, nullable=True),
    sa.Column("quarantine_reason", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.CheckConstraint("producer IN ('data', 'bot', 'executor', 'risk', 'manager')", name="producer"),
    sa.CheckConstraint("subject <> ''", name="subject_not_empty"),
    sa.CheckConstraint("schema_version >= 1", name="schema_version_positive"),
    sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    sa.CheckConstraint(
        "(quarantined_at_ms IS NULL) = (quarantine_reason IS NULL)", name="quarantine_has_reason"
    ),
    sa.Index(
        "ix_outbox_pending",
        "id",
        postgresql_where=sa.text("published_at_ms IS NULL AND quarantined_at_ms IS NULL"),
    ),
    sa.Index(
        "ix_outbox_published_at_ms",
        "published_at_ms",
        postgresql_where=sa.text("published_at_ms IS NOT NULL"),
    ),
    schema="bus",
)

PRODUCER_INSERT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "subject",
    "payload",
    "headers",
    "schema_name",
    "schema_version",
    "producer",
    "trace_id",
    "created_at_ms",
)
"""Columns a producing service may set; `id`, `txid` and the drain's bookkeeping stay server-side."""

drain_state = sa.Table(
    "drain_state",
    metadata,
    # One row: whether the drain sleeps, so writers NOTIFY only then (NOTIFY serialises commits).
    sa.Column("id", sa.SmallInteger, primary_key=True),
    sa.Column("sleeping", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("leader", sa.Text, nullable=True),
    sa.Column("changed_at_ms", sa.BigInteger, nullable=False, server_default=NOW_MS),
    sa.CheckConstraint("id = 1", name="single_row"),
    schema="bus",
)

inbox = sa.Table(
    "inbox",
    metadata,
    # One row per (durable consumer, event) handled: the handler inserts it in its own transaction.
    sa.Column("consumer", sa.Text, nullable=False),
    sa.Column("msg_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("processed_at_ms", sa.BigInteger, nullable=False, server_default=NOW_MS),
    sa.PrimaryKeyConstraint("consumer", "msg_id"),
    sa.CheckConstraint("consumer <> ''", name="consumer_not_empty"),
    sa.Index("ix_inbox_processed_at_ms", "processed_at_ms"),
    schema="bus",
)

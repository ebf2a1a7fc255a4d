"""Schema `trading`, the bots' operational tables of revision 0013: leases (bot service), the series each
run subscribes to (bot service), the bots' lifecycle events (bot service, executor) and the commands risk
issues (risk)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from migrations.tables.base import metadata
from migrations.tables.trading import MARKETS


def _run_id(nullable: bool) -> sa.Column[uuid.UUID]:
    return sa.Column(
        "run_id",
        pg.UUID(as_uuid=True),
        sa.ForeignKey("trading.runs.id", ondelete="CASCADE"),
        nullable=nullable,
    )


bot_leases = sa.Table(
    "bot_leases",
    metadata,
    # Which process runs a bot (under its session advisory lock), since when, and in which run.
    sa.Column("bot_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("acquired_ms", sa.BigInteger, nullable=False),
    sa.Column("renewed_ms", sa.BigInteger, nullable=False),
    _run_id(nullable=False),
    sa.CheckConstraint("btrim(holder) <> ''", name="holder_not_blank"),
    sa.CheckConstraint("renewed_ms >= acquired_ms", name="renewed_after_acquired"),
    schema="trading",
)

symbol_subscriptions = sa.Table(
    "symbol_subscriptions",
    metadata,
    _run_id(nullable=False),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("market", sa.Text, nullable=False),
    sa.Column("tf", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "market", "symbol", "tf"),
    sa.CheckConstraint(MARKETS, name="market"),
    sa.CheckConstraint("tf IN ('1m', '5m', '15m', '1h', '4h', '1d')", name="tf"),
    schema="trading",
)

bot_events = sa.Table(
    "bot_events",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=False),
    _run_id(nullable=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint("kind IN ('started', 'stopped', 'paused', 'resumed', 'flattened')", name="kind"),
    sa.Index("ix_bot_events_bot_id_ts_ms", "bot_id", "ts_ms"),
    sa.Index("ix_bot_events_run_id", "run_id"),
    schema="trading",
)

bot_commands = sa.Table(
    "bot_commands",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("command_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=True),  # null: every bot
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("issued_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint("kind IN ('pause', 'resume', 'flatten')", name="kind"),
    sa.Index("ix_bot_commands_issued_ms", "issued_ms"),
    schema="trading",
)

"""Schema `trading`, write side: the append-only event tables services decide from, and aggregate heads.

The read models (orders, positions, risk_state) are not here: each projection owns its tables in a
generation schema (`proj_<name>_<n>`), and `trading.<view>` views point at the live generation.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from migrations.tables.base import metadata

SIDES = "side IN ('buy', 'sell')"
MARKETS = "market IN ('spot', 'perp')"

aggregate_heads = sa.Table(
    "aggregate_heads",
    metadata,
    # One row per aggregate: its row lock serialises writers, `version` is the last one written.
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.CheckConstraint("kind IN ('order', 'position', 'latch')", name="kind"),
    sa.CheckConstraint("version >= 0", name="version_not_negative"),
    schema="trading",
)

order_events = sa.Table(
    "order_events",
    metadata,
    sa.Column("order_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("intent_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("market", sa.Text, nullable=False),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("order_type", sa.Text, nullable=False),
    sa.Column("qty", sa.Numeric, nullable=False),
    sa.Column("limit_price", sa.Double, nullable=True),
    sa.Column("filled_qty", sa.Numeric, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=sa.text("''")),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint(
        "kind IN ('submitted', 'acked', 'rejected', 'cancelled', 'partially_filled', 'filled')", name="kind"
    ),
    sa.CheckConstraint(SIDES, name="side"),
    sa.CheckConstraint(MARKETS, name="market"),
    sa.CheckConstraint("order_type IN ('market', 'limit')", name="order_type"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    schema="trading",
)

fill_events = sa.Table(
    "fill_events",
    metadata,
    sa.Column("bot_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("symbol", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("fill_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("order_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("market", sa.Text, nullable=False),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("qty", sa.Numeric, nullable=False),
    sa.Column("price", sa.Double, nullable=False),
    sa.Column("fee", sa.Numeric, nullable=False),
    sa.Column("fee_asset", sa.Text, nullable=False),
    sa.Column("liquidity", sa.Text, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("priced_at_ms", sa.BigInteger, nullable=True),
    sa.CheckConstraint(SIDES, name="side"),
    sa.CheckConstraint(MARKETS, name="market"),
    sa.CheckConstraint("liquidity IN ('maker', 'taker')", name="liquidity"),
    sa.CheckConstraint("qty > 0", name="qty_positive"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    schema="trading",
)

risk_events = sa.Table(
    "risk_events",
    metadata,
    sa.Column("latch_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("breaker", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("threshold", sa.Double, nullable=True),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=True),
    sa.Column("message", sa.Text, nullable=False, server_default=sa.text("''")),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint("action IN ('trip', 'resume')", name="action"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    schema="trading",
)

projections = sa.Table(
    "projections",
    metadata,
    # Which generation schema each projection's views read; swapped in one transaction by a rebuild.
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("swapped_at_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint("generation >= 1", name="generation_positive"),
    schema="trading",
)

order_intents = sa.Table(
    "order_intents",
    metadata,
    # The bot's record of every intent it published (written with the outbox row).
    sa.Column("intent_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("market", sa.Text, nullable=False),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("order_type", sa.Text, nullable=False),
    sa.Column("qty", sa.Numeric, nullable=False),
    sa.Column("limit_price", sa.Double, nullable=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("valid_until_ms", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=sa.text("''")),
    sa.CheckConstraint(SIDES, name="side"),
    sa.CheckConstraint(MARKETS, name="market"),
    sa.CheckConstraint("valid_until_ms >= created_ms", name="valid_after_created"),
    schema="trading",
)

intent_receipts = sa.Table(
    "intent_receipts",
    metadata,
    # The executor's idempotency key: one outcome per intent, written in the deciding transaction.
    sa.Column("intent_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("order_id", pg.UUID(as_uuid=True), nullable=True),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=sa.text("''")),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint("outcome IN ('placed', 'expired', 'halted', 'paused', 'rejected')", name="outcome"),
    schema="trading",
)

bot_configs = sa.Table(
    "bot_configs",
    metadata,
    sa.Column("bot_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("market", sa.Text, nullable=False),
    sa.Column("tf", sa.Text, nullable=False),
    sa.Column("strategy", sa.Text, nullable=False),
    sa.Column("params", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("desired_state", sa.Text, nullable=False, server_default=sa.text("'running'")),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint(MARKETS, name="market"),
    sa.CheckConstraint("desired_state IN ('running', 'paused', 'stopped')", name="desired_state"),
    schema="trading",
)

bot_strategy_state = sa.Table(
    "bot_strategy_state",
    metadata,
    sa.Column("bot_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("state", pg.JSONB, nullable=False),
    sa.Column("last_open_time_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    schema="trading",
)

risk_config = sa.Table(
    "risk_config",
    metadata,
    sa.Column("breaker", sa.Text, primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("threshold", sa.Double, nullable=False),
    sa.Column("window_ms", sa.BigInteger, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    schema="trading",
)

risk_audit_log = sa.Table(
    "risk_audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint("action IN ('resume', 'flatten', 'pause', 'trip')", name="action"),
    schema="trading",
)

executor_controls = sa.Table(
    "executor_controls",
    metadata,
    # One row: whether the executor places new orders (risk.commands pause / resume).
    sa.Column("id", sa.SmallInteger, primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("reason", sa.Text, nullable=False, server_default=sa.text("''")),
    sa.Column("changed_ms", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.CheckConstraint("id = 1", name="single_row"),
    schema="trading",
)

reconcile_runs = sa.Table(
    "reconcile_runs",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("started_ms", sa.BigInteger, nullable=False),
    sa.Column("finished_ms", sa.BigInteger, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("mismatches", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("details", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.CheckConstraint("status IN ('running', 'clean', 'repaired', 'failed')", name="status"),
    schema="trading",
)

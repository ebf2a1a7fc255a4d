"""Schema `trading`, sessions and exchange records: a bot's runs (bot service), the executor's trades
(one per fill, in the fill's transaction) and the fencing tokens `trading.increment_fence` hands out."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from migrations.tables.base import metadata
from migrations.tables.trading import MARKETS, SIDES

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("started_ms", sa.BigInteger, nullable=False),
    sa.Column("stopped_ms", sa.BigInteger, nullable=True),
    sa.CheckConstraint("mode IN ('paper', 'live')", name="mode"),
    sa.CheckConstraint("status IN ('running', 'stopped')", name="status"),
    sa.CheckConstraint("(status = 'running') = (stopped_ms IS NULL)", name="stopped_when_stopped"),
    sa.CheckConstraint("stopped_ms >= started_ms", name="stops_after_start"),
    schema="trading",
)
sa.Index(
    "ix_runs_one_running_per_bot",
    runs.c.bot_id,
    unique=True,
    postgresql_where=sa.text("status = 'running'"),
)

trades = sa.Table(
    "trades",
    metadata,
    sa.Column("trade_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "run_id",
        pg.UUID(as_uuid=True),
        sa.ForeignKey("trading.runs.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("order_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("venue", sa.Text, nullable=False),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("market", sa.Text, nullable=False),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("qty", sa.Numeric, nullable=False),
    sa.Column("price", sa.Double, nullable=False),
    sa.Column("fee", sa.Numeric, nullable=False),
    sa.Column("fee_asset", sa.Text, nullable=False),
    sa.Column("liquidity", sa.Text, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint("venue IN ('paper')", name="venue"),
    sa.CheckConstraint(SIDES, name="side"),
    sa.CheckConstraint(MARKETS, name="market"),
    sa.CheckConstraint("liquidity IN ('maker', 'taker')", name="liquidity"),
    sa.CheckConstraint("qty > 0", name="qty_positive"),
    sa.Index("ix_trades_run_id", "run_id"),
    sa.Index("ix_trades_bot_id_ts_ms", "bot_id", "ts_ms"),
    schema="trading",
)

fences = sa.Table(
    "fences",
    metadata,
    sa.Column("bot_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("token", sa.BigInteger, nullable=False),
    sa.CheckConstraint("token >= 1", name="token_positive"),
    schema="trading",
)

bot_notional_caps = sa.Table(
    "bot_notional_caps",
    metadata,
    # A bot's cap on the notional it may place per UTC day (no row: no cap).
    sa.Column("bot_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("daily_cap", sa.Numeric, nullable=False),
    sa.CheckConstraint("daily_cap > 0", name="daily_cap_positive"),
    schema="trading",
)

global_notional_cap = sa.Table(
    "global_notional_cap",
    metadata,
    # One row at most: the cap on every bot's notional together per UTC day (no row: no cap).
    sa.Column("id", sa.SmallInteger, primary_key=True),
    sa.Column("daily_cap", sa.Numeric, nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
    sa.CheckConstraint("daily_cap > 0", name="daily_cap_positive"),
    schema="trading",
)

bot_daily_notional = sa.Table(
    "bot_daily_notional",
    metadata,
    sa.Column("bot_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("day_ms", sa.BigInteger, primary_key=True),
    sa.Column("notional", sa.Numeric, nullable=False),
    sa.CheckConstraint("day_ms % 86400000 = 0", name="day_start"),
    sa.CheckConstraint("notional >= 0", name="notional_not_negative"),
    schema="trading",
)

global_daily_notional = sa.Table(
    "global_daily_notional",
    metadata,
    sa.Column("day_ms", sa.BigInteger, primary_key=True),
    sa.Column("notional", sa.Numeric, nullable=False),
    sa.CheckConstraint("day_ms % 86400000 = 0", name="day_start"),
    sa.CheckConstraint("notional >= 0", name="notional_not_negative"),
    schema="trading",
)

signals = sa.Table(
    "signals",
    metadata,
    # The strategy log: each signal a bot's strategy gave, acted on (an intent) or held back, and why.
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "run_id",
        pg.UUID(as_uuid=True),
        sa.ForeignKey("trading.runs.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("market", sa.Text, nullable=False),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("candle_open_ms", sa.BigInteger, nullable=False),
    sa.Column("close", sa.Double, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("intent_id", pg.UUID(as_uuid=True), nullable=True),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint(SIDES, name="side"),
    sa.CheckConstraint(MARKETS, name="market"),
    sa.CheckConstraint("outcome IN ('emitted', 'suppressed')", name="outcome"),
    sa.CheckConstraint("(outcome = 'emitted') = (intent_id IS NOT NULL)", name="intent_when_emitted"),
    sa.Index("ix_signals_bot_id_candle_open_ms", "bot_id", "candle_open_ms"),
    sa.Index("ix_signals_run_id", "run_id"),
    schema="trading",
)

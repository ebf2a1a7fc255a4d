"""Service tables: the bot's intents and strategy state, the executor's intent receipts, controls and
reconcile runs, risk config and audit, bot configs, and the paper exchange's own books (`paper`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from settings import roles

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
SIDES = "side IN ('buy', 'sell')"
MARKETS = "market IN ('spot', 'perp')"
T = "trading"

RISK_CONFIG = [
    ("drawdown", True, 0.05, 86_400_000, "Halt when equity falls this fraction below its peak in the window"),
    ("connectivity", True, 180_000.0, 180_000, "Halt when no kline arrived for this many ms"),
    (
        "vpin",
        False,
        0.8,
        3_600_000,
        "Halt when VPIN toxicity exceeds the threshold (declared, not evaluated)",
    ),
    ("macro", False, 3.0, 86_400_000, "Halt on a macro shock z-score above the threshold (declared)"),
    (
        "correlation",
        False,
        0.9,
        86_400_000,
        "Halt when the returns of bots correlate above the threshold (declared)",
    ),
]


def ck(table: str, name: str, text: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(text, name=op.f(f"ck_{table}_{name}"))


def _trading() -> None:
    op.create_table(
        "order_intents",
        sa.Column("intent_id", UUID, nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("bot_id", UUID, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("market", sa.Text, nullable=False),
        sa.Column("side", sa.Text, nullable=False),
        sa.Column("order_type", sa.Text, nullable=False),
        sa.Column("qty", sa.Numeric, nullable=False),
        sa.Column("limit_price", sa.Double, nullable=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("valid_until_ms", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.PrimaryKeyConstraint("intent_id", name=op.f("pk_order_intents")),
        sa.UniqueConstraint("event_id", name=op.f("uq_order_intents_event_id")),
        ck("order_intents", "side", SIDES),
        ck("order_intents", "market", MARKETS),
        ck("order_intents", "valid_after_created", "valid_until_ms >= created_ms"),
        schema=T,
    )
    op.create_table(
        "intent_receipts",
        sa.Column("intent_id", UUID, nullable=False),
        sa.Column("order_id", UUID, nullable=True),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("intent_id", name=op.f("pk_intent_receipts")),
        ck("intent_receipts", "outcome", "outcome IN ('placed', 'expired', 'halted', 'paused', 'rejected')"),
        schema=T,
    )
    op.create_table(
        "bot_configs",
        sa.Column("bot_id", UUID, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("market", sa.Text, nullable=False),
        sa.Column("tf", sa.Text, nullable=False),
        sa.Column("strategy", sa.Text, nullable=False),
        sa.Column("params", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("desired_state", sa.Text, nullable=False, server_default=sa.text("'running'")),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("bot_id", name=op.f("pk_bot_configs")),
        ck("bot_configs", "market", MARKETS),
        ck("bot_configs", "desired_state", "desired_state IN ('running', 'paused', 'stopped')"),
        schema=T,
    )
    op.create_table(
        "bot_strategy_state",
        sa.Column("bot_id", UUID, nullable=False),
        sa.Column("state", pg.JSONB, nullable=False),
        sa.Column("last_open_time_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("bot_id", name=op.f("pk_bot_strategy_state")),
        schema=T,
    )
    op.create_table(
        "risk_config",
        sa.Column("breaker", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("threshold", sa.Double, nullable=False),
        sa.Column("window_ms", sa.BigInteger, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("breaker", name=op.f("pk_risk_config")),
        schema=T,
    )
    op.create_table(
        "risk_audit_log",
        sa.Column("id", sa.BigInteger, autoincrement=True, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_audit_log")),
        ck("risk_audit_log", "action", "action IN ('resume', 'flatten', 'pause', 'trip')"),
        schema=T,
    )
    op.create_table(
        "executor_controls",
        sa.Column("id", sa.SmallInteger, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("reason", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("changed_ms", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executor_controls")),
        ck("executor_controls", "single_row", "id = 1"),
        schema=T,
    )
    op.create_table(
        "reconcile_runs",
        sa.Column("id", sa.BigInteger, autoincrement=True, nullable=False),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        sa.Column("finished_ms", sa.BigInteger, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("mismatches", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("details", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconcile_runs")),
        ck("reconcile_runs", "status", "status IN ('running', 'clean', 'repaired', 'failed')"),
        schema=T,
    )


def _paper() -> None:
    op.execute("CREATE SCHEMA paper")
    op.create_table(
        "orders",
        sa.Column("order_id", UUID, nullable=False),
        sa.Column("bot_id", UUID, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("side", sa.Text, nullable=False),
        sa.Column("qty", sa.Numeric, nullable=False),
        sa.Column("filled_qty", sa.Numeric, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
        schema="paper",
    )
    op.create_table(
        "fills",
        sa.Column("fill_id", UUID, nullable=False),
        sa.Column("order_id", UUID, nullable=False),
        sa.Column("qty", sa.Numeric, nullable=False),
        sa.Column("price", sa.Double, nullable=False),
        sa.Column("fee", sa.Numeric, nullable=False),
        sa.Column("fee_asset", sa.Text, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("fill_id", name=op.f("pk_fills")),
        schema="paper",
    )


def _seed_and_grant() -> None:
    op.execute("INSERT INTO trading.executor_controls (id) VALUES (1)")
    keys = ("breaker", "enabled", "threshold", "window_ms", "description")
    config = sa.table("risk_config", *(sa.column(k) for k in keys), schema=T)
    op.bulk_insert(config, [dict(zip(keys, row, strict=True)) for row in RISK_CONFIG])
    bot, ex, risk, mgr = roles.BOT, roles.EXECUTOR, roles.RISK, roles.MANAGER
    op.execute(f"GRANT SELECT, INSERT ON trading.order_intents TO {bot}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON trading.bot_strategy_state TO {bot}")
    op.execute(f"GRANT SELECT ON trading.bot_configs TO {bot}, {risk}, {ex}")
    op.execute(f"GRANT SELECT, INSERT ON trading.bot_configs TO {mgr}")
    op.execute(f"GRANT UPDATE (desired_state) ON trading.bot_configs TO {risk}")
    op.execute(f"GRANT SELECT, INSERT ON trading.intent_receipts, trading.reconcile_runs TO {ex}")
    op.execute(f"GRANT UPDATE ON trading.reconcile_runs TO {ex}")
    op.execute(f"GRANT USAGE ON SEQUENCE trading.reconcile_runs_id_seq TO {ex}")
    op.execute(f"GRANT SELECT, UPDATE ON trading.executor_controls TO {ex}")
    op.execute(f"GRANT SELECT ON trading.risk_config TO {risk}, {mgr}")
    op.execute(f"GRANT SELECT, INSERT ON trading.risk_audit_log TO {risk}, {mgr}")
    op.execute(f"GRANT USAGE ON SEQUENCE trading.risk_audit_log_id_seq TO {risk}, {mgr}")
    op.execute(f"GRANT USAGE ON SCHEMA paper TO {ex}, {roles.LAB_READER}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA paper TO {ex}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA paper TO {roles.LAB_READER}")


def upgrade() -> None:
    _trading()
    _paper()
    _seed_and_grant()


def downgrade() -> None:
    op.execute("DROP SCHEMA paper CASCADE")
    for table in (
        "reconcile_runs",
        "executor_controls",
        "risk_audit_log",
        "risk_config",
        "bot_strategy_state",
        "bot_configs",
        "intent_receipts",
        "order_intents",
    ):
        op.drop_table(table, schema=T)

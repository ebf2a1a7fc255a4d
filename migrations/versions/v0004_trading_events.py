"""Trading write side: order, fill and risk event tables, aggregate heads, and the projection registry.

The executor and risk services decide from these append-only tables under the aggregate's row lock
(`aggregate_heads`); the read models are built by projections in generation schemas that this
revision does not create (see projections/generations.py), but whose schemas it drops on downgrade.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from settings import roles

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIDES = "side IN ('buy', 'sell')"
MARKETS = "market IN ('spot', 'perp')"
UUID = pg.UUID(as_uuid=True)

DROP_GENERATIONS = r"""
DO $$
DECLARE s text;
BEGIN
    FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'proj\_%' LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', s);
    END LOOP;
END
$$
"""


def _heads() -> None:
    op.create_table(
        "aggregate_heads",
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("kind", "id", name=op.f("pk_aggregate_heads")),
        sa.CheckConstraint("kind IN ('order', 'position', 'latch')", name=op.f("ck_aggregate_heads_kind")),
        sa.CheckConstraint("version >= 0", name=op.f("ck_aggregate_heads_version_not_negative")),
        schema="trading",
    )


def _order_events() -> None:
    op.create_table(
        "order_events",
        sa.Column("order_id", UUID, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("bot_id", UUID, nullable=False),
        sa.Column("intent_id", UUID, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("market", sa.Text, nullable=False),
        sa.Column("side", sa.Text, nullable=False),
        sa.Column("order_type", sa.Text, nullable=False),
        sa.Column("qty", sa.Numeric, nullable=False),
        sa.Column("limit_price", sa.Double, nullable=True),
        sa.Column("filled_qty", sa.Numeric, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "version", name=op.f("pk_order_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_order_events_event_id")),
        sa.CheckConstraint(
            "kind IN ('submitted', 'acked', 'rejected', 'cancelled', 'partially_filled', 'filled')",
            name=op.f("ck_order_events_kind"),
        ),
        sa.CheckConstraint(SIDES, name=op.f("ck_order_events_side")),
        sa.CheckConstraint(MARKETS, name=op.f("ck_order_events_market")),
        sa.CheckConstraint("order_type IN ('market', 'limit')", name=op.f("ck_order_events_order_type")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_order_events_version_positive")),
        schema="trading",
    )


def _fill_events() -> None:
    op.create_table(
        "fill_events",
        sa.Column("bot_id", UUID, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("fill_id", UUID, nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("order_id", UUID, nullable=False),
        sa.Column("market", sa.Text, nullable=False),
        sa.Column("side", sa.Text, nullable=False),
        sa.Column("qty", sa.Numeric, nullable=False),
        sa.Column("price", sa.Double, nullable=False),
        sa.Column("fee", sa.Numeric, nullable=False),
        sa.Column("fee_asset", sa.Text, nullable=False),
        sa.Column("liquidity", sa.Text, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "symbol", "version", name=op.f("pk_fill_events")),
        sa.UniqueConstraint("fill_id", name=op.f("uq_fill_events_fill_id")),
        sa.UniqueConstraint("event_id", name=op.f("uq_fill_events_event_id")),
        sa.CheckConstraint(SIDES, name=op.f("ck_fill_events_side")),
        sa.CheckConstraint(MARKETS, name=op.f("ck_fill_events_market")),
        sa.CheckConstraint("liquidity IN ('maker', 'taker')", name=op.f("ck_fill_events_liquidity")),
        sa.CheckConstraint("qty > 0", name=op.f("ck_fill_events_qty_positive")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_fill_events_version_positive")),
        schema="trading",
    )


def _risk_events() -> None:
    op.create_table(
        "risk_events",
        sa.Column("latch_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("breaker", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("value", sa.Double, nullable=True),
        sa.Column("threshold", sa.Double, nullable=True),
        sa.Column("bot_id", UUID, nullable=True),
        sa.Column("message", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("latch_id", "version", name=op.f("pk_risk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_risk_events_event_id")),
        sa.CheckConstraint("action IN ('trip', 'resume')", name=op.f("ck_risk_events_action")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_risk_events_version_positive")),
        schema="trading",
    )


def _projections() -> None:
    op.create_table(
        "projections",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("swapped_at_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projections")),
        sa.CheckConstraint("generation >= 1", name=op.f("ck_projections_generation_positive")),
        schema="trading",
    )


def _grant() -> None:
    heads = "trading.aggregate_heads"
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON {heads} TO {roles.EXECUTOR}, {roles.RISK}")
    op.execute(f"GRANT SELECT, INSERT ON trading.order_events, trading.fill_events TO {roles.EXECUTOR}")
    op.execute(f"GRANT SELECT, INSERT ON trading.risk_events TO {roles.RISK}")
    op.execute(f"GRANT SELECT ON trading.order_events, trading.fill_events TO {roles.RISK}")
    readers = f"{roles.PROJECTOR}, {roles.MANAGER}, {roles.RISK}, {roles.EXECUTOR}, {roles.BOT}"
    op.execute(f"GRANT SELECT ON trading.projections TO {readers}")


def upgrade() -> None:
    _heads()
    _order_events()
    _fill_events()
    _risk_events()
    _projections()
    _grant()


def downgrade() -> None:
    op.execute(DROP_GENERATIONS)
    for table in ("projections", "risk_events", "fill_events", "order_events", "aggregate_heads"):
        op.drop_table(table, schema="trading")

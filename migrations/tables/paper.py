"""Schema `paper`: the paper exchange's own books, which the executor reconciles its records against,
and the highest fencing token the exchange has seen per bot (revision 0014)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from migrations.tables.base import metadata

paper_orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("bot_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("qty", sa.Numeric, nullable=False),
    sa.Column("filled_qty", sa.Numeric, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("fence_token", sa.BigInteger, nullable=True),  # 0014: null for orders written before
    schema="paper",
)

paper_fills = sa.Table(
    "fills",
    metadata,
    sa.Column("fill_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("order_id", pg.UUID(as_uuid=True), nullable=False),
    sa.Column("qty", sa.Numeric, nullable=False),
    sa.Column("price", sa.Double, nullable=False),
    sa.Column("fee", sa.Numeric, nullable=False),
    sa.Column("fee_asset", sa.Text, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    schema="paper",
)

paper_fence_tokens = sa.Table(
    "fence_tokens",
    metadata,
    sa.Column("bot_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("token", sa.BigInteger, nullable=False),
    sa.Column("seen_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint("token >= 1", name="token_positive"),
    schema="paper",
)

"""`trading.fill_events.priced_at_ms`: the market time a fill's price is from (Fill's new optional field).

The paper exchange prices a fill at a 1m kline's close; the kline's open time is what a price chart marks
the fill at. It differs from the fill's `ts_ms` (the executor's clock) whenever the market data is not
live, as with the demo feed replaying the past faster than real time. Nullable: older fills, and venues
that do not say, have none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fill_events", sa.Column("priced_at_ms", sa.BigInteger, nullable=True), schema="trading")


def downgrade() -> None:
    op.drop_column("fill_events", "priced_at_ms", schema="trading")

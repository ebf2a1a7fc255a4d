"""Drain wake-up: `bus.drain_state` and a statement trigger that NOTIFYs only while the drain sleeps.

A NOTIFY per commit takes a global lock and serialises writers (measured: 5.1k -> 2.1k tx/s with 8
writers); while the drain is awake it polls, so writers skip the NOTIFY entirely.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.tables.base import NOW_MS
from settings import roles

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAKE = """
CREATE FUNCTION bus.outbox_wake() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM bus.drain_state WHERE sleeping) THEN
        PERFORM pg_notify('bus_outbox_appended', '');
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "drain_state",
        sa.Column("id", sa.SmallInteger, nullable=False),
        sa.Column("sleeping", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("leader", sa.Text, nullable=True),
        sa.Column("changed_at_ms", sa.BigInteger, nullable=False, server_default=NOW_MS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drain_state")),
        sa.CheckConstraint("id = 1", name=op.f("ck_drain_state_single_row")),
        schema="bus",
    )
    op.execute("INSERT INTO bus.drain_state (id) VALUES (1)")
    op.execute(WAKE)
    op.execute("REVOKE ALL ON FUNCTION bus.outbox_wake() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER outbox_wake AFTER INSERT ON bus.outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION bus.outbox_wake()"
    )
    op.execute(f"GRANT SELECT, UPDATE (sleeping, leader, changed_at_ms) ON bus.drain_state TO {roles.DRAIN}")


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_wake ON bus.outbox")
    op.execute("DROP FUNCTION bus.outbox_wake()")
    op.drop_table("drain_state", schema="bus")

"""Inbox: `bus.inbox` records which events each durable consumer has handled, for idempotent effects.

Consuming services insert and read their rows inside the handler's transaction; the drain role,
which already keeps `bus.outbox` trimmed, deletes old rows for retention.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from migrations.tables.base import NOW_MS
from settings import roles

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSUMER_ROLES: tuple[str, ...] = (roles.EXECUTOR, roles.RISK, roles.MANAGER, roles.BOT)


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text, nullable=False),
        sa.Column("msg_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("processed_at_ms", sa.BigInteger, nullable=False, server_default=NOW_MS),
        sa.PrimaryKeyConstraint("consumer", "msg_id", name=op.f("pk_inbox")),
        sa.CheckConstraint("consumer <> ''", name=op.f("ck_inbox_consumer_not_empty")),
        schema="bus",
    )
    op.create_index("ix_inbox_processed_at_ms", "inbox", ["processed_at_ms"], schema="bus")
    op.execute(f"GRANT SELECT, INSERT ON bus.inbox TO {', '.join(CONSUMER_ROLES)}")
    op.execute(f"GRANT SELECT, DELETE ON bus.inbox TO {roles.DRAIN}")


def downgrade() -> None:
    op.drop_table("inbox", schema="bus")

"""`bus.outbox_backlog()`: the outbox's backlog as three numbers, readable by the manager.

The manager's `/metrics` reports how many outbox rows wait for the drain and how old the oldest is (the
alert on a stalled drain reads it); only producers (insert) and the drain (read) may touch the rows
themselves. A SECURITY DEFINER function owned by the schema owner returns the counts and nothing of the
rows' content, so the manager needs no grant on the table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from settings import roles

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION bus.outbox_backlog()
RETURNS TABLE (pending bigint, oldest_created_ms bigint, quarantined bigint, now_ms bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*) FILTER (WHERE published_at_ms IS NULL AND quarantined_at_ms IS NULL),
           min(created_at_ms) FILTER (WHERE published_at_ms IS NULL AND quarantined_at_ms IS NULL),
           count(*) FILTER (WHERE quarantined_at_ms IS NOT NULL),
           (extract(epoch FROM clock_timestamp()) * 1000)::bigint
    FROM bus.outbox
$$
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION bus.outbox_backlog() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION bus.outbox_backlog() TO {roles.MANAGER}")
    op.execute(f"GRANT USAGE ON SCHEMA bus TO {roles.MANAGER}")


def downgrade() -> None:
    op.execute("DROP FUNCTION bus.outbox_backlog()")

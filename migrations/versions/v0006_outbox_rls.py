"""Row-level security on `bus.outbox`: each service inserts only the subjects it produces.

This revision turns RLS on and creates the policies that do not depend on the registry: the drain
reads, marks and forgets every row, the lab reads every row. The per-service INSERT policies are
generated from the registry and kept current by `migrations.outbox_policies.sync`, which env.py runs
after the revisions in the same transaction (see that module for why they are not frozen here).
Table owners and superusers are not subject to RLS (no FORCE): migrations and admin tools see all.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from settings import roles

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATIC_POLICIES = (
    f"CREATE POLICY drain_reads ON bus.outbox FOR SELECT TO {roles.DRAIN} USING (true)",
    f"CREATE POLICY drain_marks ON bus.outbox FOR UPDATE TO {roles.DRAIN} USING (true) WITH CHECK (true)",
    f"CREATE POLICY drain_forgets ON bus.outbox FOR DELETE TO {roles.DRAIN} USING (true)",
    f"CREATE POLICY lab_reads ON bus.outbox FOR SELECT TO {roles.LAB_READER} USING (true)",
)

DROP_ALL_POLICIES = """
DO $$
DECLARE
    name text;
BEGIN
    FOR name IN SELECT polname FROM pg_catalog.pg_policy WHERE polrelid = 'bus.outbox'::regclass
    LOOP
        EXECUTE 'DROP POLICY ' || quote_ident(name) || ' ON bus.outbox';
    END LOOP;
END
$$"""


def upgrade() -> None:
    """Enable RLS and create the drain's and the lab's policies (the producers' follow from env.py)."""
    op.execute("ALTER TABLE bus.outbox ENABLE ROW LEVEL SECURITY")
    for statement in STATIC_POLICIES:
        op.execute(statement)


def downgrade() -> None:
    """Drop every policy on the outbox, generated ones included, and disable RLS."""
    op.execute(DROP_ALL_POLICIES)
    op.execute("ALTER TABLE bus.outbox DISABLE ROW LEVEL SECURITY")

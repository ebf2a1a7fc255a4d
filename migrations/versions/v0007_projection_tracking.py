"""`trading.projection_tracking()`: each live projection's tracking row, readable by the manager.

Tracking rows live in the generation schemas (`proj_<name>_<n>`, see projections/generations.py), which
only the projector may read; the manager's /healthz needs how far each projection has got and whether it
halted. A SECURITY DEFINER function owned by the schema owner returns just those columns of the live
generations, so no grant has to follow every new generation and the manager reads no view rows it does
not need. A generation whose schema is missing returns NULLs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from settings import roles

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION trading.projection_tracking()
RETURNS TABLE (
    name text, generation integer, last_seq bigint, processed_seq bigint,
    halted_seq bigint, halted_reason text, updated_ms bigint
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    live record;
BEGIN
    FOR live IN SELECT p.name, p.generation FROM trading.projections p ORDER BY p.name LOOP
        name := live.name;
        generation := live.generation;
        BEGIN
            EXECUTE format(
                'SELECT last_seq, processed_seq, halted_seq, halted_reason, updated_ms '
                'FROM %I.tracking WHERE id = 1',
                'proj_' || live.name || '_' || live.generation
            ) INTO last_seq, processed_seq, halted_seq, halted_reason, updated_ms;
        EXCEPTION WHEN undefined_table OR invalid_schema_name THEN
            last_seq := NULL; processed_seq := NULL; halted_seq := NULL;
            halted_reason := NULL; updated_ms := NULL;
        END;
        RETURN NEXT;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION trading.projection_tracking() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION trading.projection_tracking() TO {roles.MANAGER}")


def downgrade() -> None:
    op.execute("DROP FUNCTION trading.projection_tracking()")

"""The macro breaker's threshold counts ordinary moves: a shock score, so one threshold serves DXY and VIX.

Revision 0012 made it a relative change (0.25 over two hours), which catches a 15-point VIX jump but
never a DXY shock: a 2% DXY move is huge, and a threshold that low is crossed by VIX's ordinary noise.
The breaker now scores each series' two-hour log change against the spread of its own hourly changes in
the 24 hours before (services/risk/macro.py). Over 60 simulated days of the data service's calm walk, for
each of 12 seeds, no score passed 6.9; so the threshold is 8: a 1% DXY move (10 to 12) or a 15-point VIX
jump (15 to 18) trips it, a 5-point VIX move (6 to 7) does not.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCORED = {
    "threshold": 8.0,
    "window_ms": 7_200_000,
    "description": "Halt when DXY or VIX moved by more than this many of its ordinary moves (either way)"
    " within the window",
}
RELATIVE = {
    "threshold": 0.25,
    "window_ms": 7_200_000,
    "description": "Halt when DXY or VIX moved by more than this fraction (either way) within the window",
}
"""The row as revision 0012 left it (what a downgrade restores)."""

UPDATE = sa.text(
    "UPDATE trading.risk_config SET threshold = :threshold, window_ms = :window_ms,"
    " description = :description WHERE breaker = 'macro'"
)


def upgrade() -> None:
    op.get_bind().execute(UPDATE, SCORED)


def downgrade() -> None:
    op.get_bind().execute(UPDATE, RELATIVE)

"""The correlation, VPIN and macro breakers are evaluated now: their trading.risk_config rows enabled,
each described as it is evaluated, and the macro row's threshold made a relative change.

Revision 0005 seeded these three disabled and "declared". The risk service now evaluates them (see
services/risk/correlation.py, vpin.py, macro.py). Macro was seeded as a z-score of 3.0; it is evaluated as
the relative change of DXY or VIX over the window, so its threshold is 0.25 (a 25% move) over two hours
(the series are hourly): a VIX jump of 15 points trips it, VIX's ordinary hourly moves (under 11% over two
hours in 60 simulated days of the data service's walk) do not. One threshold serves both series, so a DXY
shock (a 2% move is large for DXY) trips it only with a threshold that low, where VIX's ordinary moves
would trip it too. The seeded VPIN of calm flow stays well under 0.8 (under 0.5 in the data service's
scenario test) and its independent symbols' returns correlate near 0 over a day, far from 0.9. Risk's
role already reads the two views (revision 0010).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Row = tuple[str, bool, float, int, str]

EVALUATED: list[Row] = [
    (
        "vpin",
        True,
        0.8,
        3_600_000,
        "Halt when a traded symbol's latest VPIN within the window exceeds the threshold",
    ),
    (
        "macro",
        True,
        0.25,
        7_200_000,
        "Halt when DXY or VIX moved by more than this fraction (either way) within the window",
    ),
    (
        "correlation",
        True,
        0.9,
        86_400_000,
        "Halt when the average pairwise correlation of the traded symbols' 1m returns exceeds this",
    ),
]

DECLARED: list[Row] = [
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
"""The rows as revision 0005 seeded them (what a downgrade restores)."""

UPDATE = sa.text(
    "UPDATE trading.risk_config SET enabled = :enabled, threshold = :threshold, window_ms = :window_ms,"
    " description = :description WHERE breaker = :breaker"
)


def _write(rows: list[Row]) -> None:
    keys = ("breaker", "enabled", "threshold", "window_ms", "description")
    for row in rows:
        op.get_bind().execute(UPDATE, dict(zip(keys, row, strict=True)))


def upgrade() -> None:
    _write(EVALUATED)


def downgrade() -> None:
    _write(DECLARED)

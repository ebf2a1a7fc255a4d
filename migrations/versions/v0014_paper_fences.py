"""The paper exchange as a fenced resource: `paper.fence_tokens` (the highest fencing token the exchange
has seen per bot, and when it admitted it) and `paper.orders.fence_token` (the token each order was last
written with; null for orders written before this revision).

The executor draws a token per bot and process with `trading.increment_fence` (revision 0011) and every
write to the exchange's books for a bot admits it in the same transaction, so a stale executor process
(a restart whose old process is not dead yet, a partition) can no longer write once a newer one has.
The executor writes the new table; the lab and drift readers read it. Revision 0001's default privileges
do not cover schema `paper` for the lab reader (0005 granted it the tables of then), so it is granted here;
the drift reader has it through the default privileges of 0010.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from settings import roles

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FENCE_TOKENS = """
CREATE TABLE paper.fence_tokens (
    bot_id uuid NOT NULL,
    token bigint NOT NULL,
    seen_ms bigint NOT NULL,
    CONSTRAINT pk_fence_tokens PRIMARY KEY (bot_id),
    CONSTRAINT ck_fence_tokens_token_positive CHECK (token >= 1)
)
"""


def upgrade() -> None:
    op.execute(FENCE_TOKENS)
    op.add_column("orders", sa.Column("fence_token", sa.BigInteger, nullable=True), schema="paper")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON paper.fence_tokens TO {roles.EXECUTOR}")
    op.execute(f"GRANT SELECT ON paper.fence_tokens TO {roles.LAB_READER}")


def downgrade() -> None:
    op.drop_column("orders", "fence_token", schema="paper")
    op.execute("DROP TABLE paper.fence_tokens")

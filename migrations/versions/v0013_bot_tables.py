"""The bots' operational tables: `trading.bot_leases` (which process runs a bot, under a session advisory
lock per bot; bot service), `trading.symbol_subscriptions` (the series each run subscribes to; bot
service), `trading.bot_events` (a bot's lifecycle: started and stopped by the bot service, paused, resumed
and flattened by the executor as it applies risk's commands) and `trading.bot_commands` (each command risk
issues, in its outbox row's transaction).

The lab and drift readers read them through the default privileges of revisions 0001 and 0010.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from settings import roles

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEASES = """
CREATE TABLE trading.bot_leases (
    bot_id uuid NOT NULL,
    holder text NOT NULL,
    acquired_ms bigint NOT NULL,
    renewed_ms bigint NOT NULL,
    run_id uuid NOT NULL,
    CONSTRAINT pk_bot_leases PRIMARY KEY (bot_id),
    CONSTRAINT fk_bot_leases_run_id_runs FOREIGN KEY (run_id) REFERENCES trading.runs (id) ON DELETE CASCADE,
    CONSTRAINT ck_bot_leases_holder_not_blank CHECK (btrim(holder) <> ''),
    CONSTRAINT ck_bot_leases_renewed_after_acquired CHECK (renewed_ms >= acquired_ms)
)
"""
SUBSCRIPTIONS = """
CREATE TABLE trading.symbol_subscriptions (
    run_id uuid NOT NULL,
    bot_id uuid NOT NULL,
    symbol text NOT NULL,
    market text NOT NULL,
    tf text NOT NULL,
    CONSTRAINT pk_symbol_subscriptions PRIMARY KEY (run_id, market, symbol, tf),
    CONSTRAINT fk_symbol_subscriptions_run_id_runs FOREIGN KEY (run_id) REFERENCES trading.runs (id)
        ON DELETE CASCADE,
    CONSTRAINT ck_symbol_subscriptions_market CHECK (market IN ('spot', 'perp')),
    CONSTRAINT ck_symbol_subscriptions_tf CHECK (tf IN ('1m', '5m', '15m', '1h', '4h', '1d'))
)
"""
EVENTS = [
    """CREATE TABLE trading.bot_events (
    id uuid NOT NULL,
    bot_id uuid NOT NULL,
    run_id uuid,
    kind text NOT NULL,
    detail text NOT NULL,
    ts_ms bigint NOT NULL,
    CONSTRAINT pk_bot_events PRIMARY KEY (id),
    CONSTRAINT fk_bot_events_run_id_runs FOREIGN KEY (run_id) REFERENCES trading.runs (id) ON DELETE CASCADE,
    CONSTRAINT ck_bot_events_kind CHECK (kind IN ('started', 'stopped', 'paused', 'resumed', 'flattened'))
)""",
    "CREATE INDEX ix_bot_events_bot_id_ts_ms ON trading.bot_events (bot_id, ts_ms)",
    "CREATE INDEX ix_bot_events_run_id ON trading.bot_events (run_id)",
]
COMMANDS = [
    """CREATE TABLE trading.bot_commands (
    id uuid NOT NULL,
    command_id uuid NOT NULL,
    kind text NOT NULL,
    bot_id uuid,
    reason text NOT NULL,
    actor text NOT NULL,
    issued_ms bigint NOT NULL,
    CONSTRAINT pk_bot_commands PRIMARY KEY (id),
    CONSTRAINT uq_bot_commands_command_id UNIQUE (command_id),
    CONSTRAINT ck_bot_commands_kind CHECK (kind IN ('pause', 'resume', 'flatten'))
)""",
    "CREATE INDEX ix_bot_commands_issued_ms ON trading.bot_commands (issued_ms)",
]
TABLES = "trading.bot_commands, trading.bot_events, trading.symbol_subscriptions, trading.bot_leases"


def upgrade() -> None:
    for statement in (LEASES, SUBSCRIPTIONS, *EVENTS, *COMMANDS):
        op.execute(statement)
    bot, executor, risk, manager = roles.BOT, roles.EXECUTOR, roles.RISK, roles.MANAGER
    # the bot service takes a lease over (upsert), renews it and removes it at a clean stop
    op.execute(f"GRANT SELECT, INSERT, DELETE ON trading.bot_leases TO {bot}")
    op.execute(f"GRANT UPDATE (holder, acquired_ms, renewed_ms, run_id) ON trading.bot_leases TO {bot}")
    op.execute(f"GRANT SELECT ON trading.bot_leases, trading.symbol_subscriptions TO {manager}")
    op.execute(f"GRANT SELECT, INSERT ON trading.symbol_subscriptions TO {bot}")
    op.execute(f"GRANT SELECT ON trading.bot_events TO {manager}, {bot}, {executor}")
    op.execute(f"GRANT INSERT ON trading.bot_events TO {bot}, {executor}")
    op.execute(f"GRANT SELECT ON trading.bot_commands TO {manager}, {risk}")
    op.execute(f"GRANT INSERT ON trading.bot_commands TO {risk}")


def downgrade() -> None:
    op.execute(f"DROP TABLE {TABLES}")

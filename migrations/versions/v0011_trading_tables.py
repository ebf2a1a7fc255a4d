"""Trading sessions and exchange records: `trading.runs` (a bot's paper or live session, written by the
bot service), `trading.trades` (the executor's fills as exchange records, written in the fill's
transaction), and `trading.increment_fence(bot_id)`, a fencing token per bot that only the executor may
draw (a SECURITY DEFINER function over `trading.fences`, EXECUTE revoked from PUBLIC), and the daily
notional caps: per-bot and global caps and the notional placed per UTC day, which the executor checks
and adds to in its placing transaction; `trading.signals`, the bots' strategy log (bot service).

The read models over the fills (roundtrips, equity points, performance snapshots) are projections:
their tables live in generation schemas made by projections/generations.py, not here.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from settings import roles

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNS = """
CREATE TABLE trading.runs (
    id uuid NOT NULL,
    bot_id uuid NOT NULL,
    mode text NOT NULL,
    status text NOT NULL,
    started_ms bigint NOT NULL,
    stopped_ms bigint,
    CONSTRAINT pk_runs PRIMARY KEY (id),
    CONSTRAINT ck_runs_mode CHECK (mode IN ('paper', 'live')),
    CONSTRAINT ck_runs_status CHECK (status IN ('running', 'stopped')),
    CONSTRAINT ck_runs_stopped_when_stopped CHECK ((status = 'running') = (stopped_ms IS NULL)),
    CONSTRAINT ck_runs_stops_after_start CHECK (stopped_ms >= started_ms)
)
"""
ONE_RUNNING = (
    "CREATE UNIQUE INDEX ix_runs_one_running_per_bot ON trading.runs (bot_id) WHERE status = 'running'"
)

TRADES = """
CREATE TABLE trading.trades (
    trade_id uuid NOT NULL,
    run_id uuid,
    bot_id uuid NOT NULL,
    order_id uuid NOT NULL,
    venue text NOT NULL,
    symbol text NOT NULL,
    market text NOT NULL,
    side text NOT NULL,
    qty numeric NOT NULL,
    price double precision NOT NULL,
    fee numeric NOT NULL,
    fee_asset text NOT NULL,
    liquidity text NOT NULL,
    ts_ms bigint NOT NULL,
    CONSTRAINT pk_trades PRIMARY KEY (trade_id),
    CONSTRAINT fk_trades_run_id_runs FOREIGN KEY (run_id) REFERENCES trading.runs (id) ON DELETE CASCADE,
    CONSTRAINT ck_trades_venue CHECK (venue IN ('paper')),
    CONSTRAINT ck_trades_side CHECK (side IN ('buy', 'sell')),
    CONSTRAINT ck_trades_market CHECK (market IN ('spot', 'perp')),
    CONSTRAINT ck_trades_liquidity CHECK (liquidity IN ('maker', 'taker')),
    CONSTRAINT ck_trades_qty_positive CHECK (qty > 0)
)
"""
TRADE_INDEXES = [
    "CREATE INDEX ix_trades_run_id ON trading.trades (run_id)",
    "CREATE INDEX ix_trades_bot_id_ts_ms ON trading.trades (bot_id, ts_ms)",
]

FENCES = """
CREATE TABLE trading.fences (
    bot_id uuid NOT NULL,
    token bigint NOT NULL,
    CONSTRAINT pk_fences PRIMARY KEY (bot_id),
    CONSTRAINT ck_fences_token_positive CHECK (token >= 1)
)
"""
INCREMENT_FENCE = """
CREATE FUNCTION trading.increment_fence(p_bot_id uuid)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO trading.fences AS f (bot_id, token) VALUES (p_bot_id, 1)
    ON CONFLICT (bot_id) DO UPDATE SET token = f.token + 1
    RETURNING f.token
$$
"""
"""The next fencing token of a bot: 1 first, then one more per call; the row lock of the upsert
serialises concurrent callers, so no two get the same token."""

CAPS = [
    """CREATE TABLE trading.bot_notional_caps (
    bot_id uuid NOT NULL,
    daily_cap numeric NOT NULL,
    CONSTRAINT pk_bot_notional_caps PRIMARY KEY (bot_id),
    CONSTRAINT ck_bot_notional_caps_daily_cap_positive CHECK (daily_cap > 0)
)""",
    """CREATE TABLE trading.global_notional_cap (
    id smallint NOT NULL,
    daily_cap numeric NOT NULL,
    CONSTRAINT pk_global_notional_cap PRIMARY KEY (id),
    CONSTRAINT ck_global_notional_cap_single_row CHECK (id = 1),
    CONSTRAINT ck_global_notional_cap_daily_cap_positive CHECK (daily_cap > 0)
)""",
    """CREATE TABLE trading.bot_daily_notional (
    bot_id uuid NOT NULL,
    day_ms bigint NOT NULL,
    notional numeric NOT NULL,
    CONSTRAINT pk_bot_daily_notional PRIMARY KEY (bot_id, day_ms),
    CONSTRAINT ck_bot_daily_notional_day_start CHECK (day_ms % 86400000 = 0),
    CONSTRAINT ck_bot_daily_notional_notional_not_negative CHECK (notional >= 0)
)""",
    """CREATE TABLE trading.global_daily_notional (
    day_ms bigint NOT NULL,
    notional numeric NOT NULL,
    CONSTRAINT pk_global_daily_notional PRIMARY KEY (day_ms),
    CONSTRAINT ck_global_daily_notional_day_start CHECK (day_ms % 86400000 = 0),
    CONSTRAINT ck_global_daily_notional_notional_not_negative CHECK (notional >= 0)
)""",
]
SIGNALS = [
    """CREATE TABLE trading.signals (
    id uuid NOT NULL,
    run_id uuid,
    bot_id uuid NOT NULL,
    symbol text NOT NULL,
    market text NOT NULL,
    side text NOT NULL,
    candle_open_ms bigint NOT NULL,
    close double precision NOT NULL,
    outcome text NOT NULL,
    reason text NOT NULL,
    intent_id uuid,
    ts_ms bigint NOT NULL,
    CONSTRAINT pk_signals PRIMARY KEY (id),
    CONSTRAINT fk_signals_run_id_runs FOREIGN KEY (run_id) REFERENCES trading.runs (id) ON DELETE CASCADE,
    CONSTRAINT ck_signals_side CHECK (side IN ('buy', 'sell')),
    CONSTRAINT ck_signals_market CHECK (market IN ('spot', 'perp')),
    CONSTRAINT ck_signals_outcome CHECK (outcome IN ('emitted', 'suppressed')),
    CONSTRAINT ck_signals_intent_when_emitted CHECK ((outcome = 'emitted') = (intent_id IS NOT NULL))
)""",
    "CREATE INDEX ix_signals_bot_id_candle_open_ms ON trading.signals (bot_id, candle_open_ms)",
    "CREATE INDEX ix_signals_run_id ON trading.signals (run_id)",
]
CAP_TABLES = "trading.bot_notional_caps, trading.global_notional_cap"
USAGE_TABLES = "trading.bot_daily_notional, trading.global_daily_notional"

READERS = f"{roles.MANAGER}, {roles.RISK}, {roles.EXECUTOR}, {roles.BOT}"


def upgrade() -> None:
    for statement in (RUNS, ONE_RUNNING, TRADES, *TRADE_INDEXES, FENCES, INCREMENT_FENCE, *CAPS, *SIGNALS):
        op.execute(statement)
    op.execute(f"GRANT SELECT ON trading.runs, trading.trades TO {READERS}")
    op.execute(f"GRANT INSERT, UPDATE (status, stopped_ms) ON trading.runs TO {roles.BOT}")
    op.execute(f"GRANT INSERT ON trading.trades TO {roles.EXECUTOR}")
    op.execute(f"GRANT SELECT ON trading.signals TO {READERS}")
    op.execute(f"GRANT INSERT ON trading.signals TO {roles.BOT}")
    op.execute(f"GRANT SELECT ON trading.fences TO {roles.EXECUTOR}")
    op.execute("REVOKE ALL ON FUNCTION trading.increment_fence(uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION trading.increment_fence(uuid) TO {roles.EXECUTOR}")
    op.execute(f"GRANT SELECT ON {CAP_TABLES}, {USAGE_TABLES} TO {READERS}")
    op.execute(f"GRANT INSERT, UPDATE ON {USAGE_TABLES} TO {roles.EXECUTOR}")


def downgrade() -> None:
    op.execute("DROP TABLE trading.signals")
    op.execute(f"DROP TABLE {CAP_TABLES}, {USAGE_TABLES}")
    op.execute("DROP FUNCTION trading.increment_fence(uuid)")
    op.execute("DROP TABLE trading.fences")
    op.execute("DROP TABLE trading.trades")
    op.execute("DROP TABLE trading.runs")

"""Market data beyond klines: funding, open interest, derived metrics, macro series, fear & greed,
stablecoin supply, gamma exposure and aggregated trades; their reader views; the drift reader role.

gordon-data is the sole writer of these tables. Runtime services read them only through the named
views (which run with their owner's rights); the lab and the new drift reader read everything and
write nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import role_sql
from settings import roles

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MD = "market_data"
SCHEMAS = ("bus", "trading", "market_data", "paper")
"""Every schema as of this revision: the drift reader may read each."""
SYMBOL = "symbol ~ '^[A-Z0-9]+$'"

TABLES = (
    "funding_rates",
    "open_interest",
    "metrics",
    "macro_data",
    "fear_greed",
    "stablecoin_supply",
    "gamma_exposure",
    "gamma_exposure_strikes",
    "agg_trades",
)

VIEWS: dict[str, str] = {
    "v_metrics_reader": "SELECT symbol, metric, ts_ms, value FROM market_data.metrics",
    "v_macro_reader": "SELECT series, ts_ms, value FROM market_data.macro_data",
    "v_funding_rates_reader": (
        "SELECT symbol, funding_time_ms, rate, mark_price FROM market_data.funding_rates"
    ),
    "v_open_interest_reader": (
        "SELECT symbol, ts_ms, open_interest, open_interest_usd FROM market_data.open_interest"
    ),
    "v_gex_reader": (
        "SELECT symbol, ts_ms, total_gex, flip_price, call_wall, put_wall, regime "
        "FROM market_data.gamma_exposure"
    ),
    "v_gex_strikes_reader": "SELECT symbol, ts_ms, strike, gex FROM market_data.gamma_exposure_strikes",
}

DRIFT_POLICY = "drift_reads"


def ck(table: str, name: str, text: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(text, name=op.f(f"ck_{table}_{name}"))


def pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _derivatives() -> None:
    op.create_table(
        "funding_rates",
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("funding_time_ms", sa.BigInteger, nullable=False),
        sa.Column("rate", sa.Double, nullable=False),
        sa.Column("mark_price", sa.Double, nullable=False),
        pk("funding_rates", "symbol", "funding_time_ms"),
        ck("funding_rates", "symbol_binance_native", SYMBOL),
        ck("funding_rates", "mark_price_positive", "mark_price > 0"),
        schema=MD,
    )
    op.create_table(
        "open_interest",
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("open_interest", sa.Numeric, nullable=False),
        sa.Column("open_interest_usd", sa.Double, nullable=False),
        pk("open_interest", "symbol", "ts_ms"),
        ck("open_interest", "symbol_binance_native", SYMBOL),
        ck("open_interest", "not_negative", "open_interest >= 0 AND open_interest_usd >= 0"),
        schema=MD,
    )
    op.create_table(
        "metrics",
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        pk("metrics", "symbol", "metric", "ts_ms"),
        ck("metrics", "symbol_binance_native", SYMBOL),
        ck("metrics", "metric", "metric IN ('vpin', 'long_short_ratio')"),
        ck("metrics", "vpin_is_a_fraction", "metric <> 'vpin' OR (value >= 0 AND value <= 1)"),
        ck("metrics", "long_short_ratio_positive", "metric <> 'long_short_ratio' OR value > 0"),
        schema=MD,
    )
    op.create_table(
        "agg_trades",
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("agg_id", sa.BigInteger, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("price", sa.Double, nullable=False),
        sa.Column("qty", sa.Numeric, nullable=False),
        sa.Column("buyer_maker", sa.Boolean, nullable=False),
        pk("agg_trades", "symbol", "agg_id"),
        ck("agg_trades", "symbol_binance_native", SYMBOL),
        ck("agg_trades", "positive", "price > 0 AND qty > 0"),
        schema=MD,
    )
    # VPIN and any reader scan one symbol's trades over a time window.
    op.create_index("ix_agg_trades_symbol_ts_ms", "agg_trades", ["symbol", "ts_ms"], schema=MD)


def _macro_and_sentiment() -> None:
    op.create_table(
        "macro_data",
        sa.Column("series", sa.Text, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        pk("macro_data", "series", "ts_ms"),
        ck("macro_data", "series", "series IN ('dxy', 'vix')"),
        schema=MD,
    )
    op.create_table(
        "fear_greed",
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("value", sa.SmallInteger, nullable=False),
        sa.Column("classification", sa.Text, nullable=False),
        pk("fear_greed", "ts_ms"),
        ck("fear_greed", "value_0_to_100", "value >= 0 AND value <= 100"),
        ck(
            "fear_greed",
            "classification",
            "classification IN ('extreme_fear', 'fear', 'neutral', 'greed', 'extreme_greed')",
        ),
        schema=MD,
    )
    op.create_table(
        "stablecoin_supply",
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("supply_usd", sa.Double, nullable=False),
        sa.Column("ssr", sa.Double, nullable=False),
        pk("stablecoin_supply", "ts_ms"),
        ck("stablecoin_supply", "positive", "supply_usd > 0 AND ssr > 0"),
        schema=MD,
    )


def _gamma() -> None:
    op.create_table(
        "gamma_exposure",
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("total_gex", sa.Double, nullable=False),
        sa.Column("flip_price", sa.Double, nullable=True),
        sa.Column("call_wall", sa.Double, nullable=False),
        sa.Column("put_wall", sa.Double, nullable=False),
        sa.Column("regime", sa.Text, nullable=False),
        pk("gamma_exposure", "symbol", "ts_ms"),
        ck("gamma_exposure", "symbol_binance_native", SYMBOL),
        ck("gamma_exposure", "regime", "regime IN ('positive', 'negative')"),
        schema=MD,
    )
    op.create_table(
        "gamma_exposure_strikes",
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("strike", sa.Double, nullable=False),
        sa.Column("gex", sa.Double, nullable=False),
        pk("gamma_exposure_strikes", "symbol", "ts_ms", "strike"),
        sa.ForeignKeyConstraint(
            ["symbol", "ts_ms"],
            ["market_data.gamma_exposure.symbol", "market_data.gamma_exposure.ts_ms"],
            name=op.f("fk_gamma_exposure_strikes_symbol_ts_ms_gamma_exposure"),
            ondelete="CASCADE",
        ),
        ck("gamma_exposure_strikes", "strike_positive", "strike > 0"),
        schema=MD,
    )


def _views() -> None:
    for name, select in VIEWS.items():
        op.execute(f"CREATE VIEW {MD}.{name} AS {select}")


def _list(names: Sequence[str]) -> str:
    return ", ".join(names)


def _qualified(names: Sequence[str]) -> str:
    return _list([f"{MD}.{n}" for n in names])


def _grant() -> None:
    writer, lab = roles.DATA_WRITER, roles.LAB_READER
    readers = _list(roles.RUNTIME_READER_ROLES)
    # Revision 0001's default privileges already gave the writer SELECT, INSERT, UPDATE and the lab
    # SELECT on every new table here; spelled out so this revision states its own contract.
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON {_qualified(TABLES)} TO {writer}")
    op.execute(f"GRANT SELECT ON {_qualified(TABLES)}, {_qualified(list(VIEWS))} TO {lab}")
    # Views are tables to default privileges: the writer writes the tables, never through a view.
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON {_qualified(list(VIEWS))} FROM {writer}")
    op.execute(f"GRANT SELECT ON {_qualified(list(VIEWS))} TO {readers}, {writer}")


def _drift_reader() -> None:
    """The drift reader: SELECT on every table and view of every schema, now and later, nothing else."""
    drift = roles.DRIFT_READER
    op.execute(role_sql.ensure_role_sql(drift))
    op.execute(role_sql.search_path_sql(drift))
    op.execute(f"GRANT USAGE ON SCHEMA {_list(SCHEMAS)} TO {drift}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {_list(SCHEMAS)} TO {drift}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {_list(SCHEMAS)} GRANT SELECT ON TABLES TO {drift}")
    # The outbox has row-level security: without a policy the drift reader would see no rows.
    op.execute(f"CREATE POLICY {DRIFT_POLICY} ON bus.outbox FOR SELECT TO {drift} USING (true)")


def upgrade() -> None:
    """Create the tables, the reader views, the drift reader and every grant."""
    _derivatives()
    _macro_and_sentiment()
    _gamma()
    _views()
    _grant()
    _drift_reader()


def downgrade() -> None:
    """Drop the views and tables and take back the drift reader's rights; the role stays (roles are
    cluster-wide and never dropped)."""
    drift = roles.DRIFT_READER
    op.execute(f"DROP POLICY {DRIFT_POLICY} ON bus.outbox")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {_list(SCHEMAS)} REVOKE SELECT ON TABLES FROM {drift}")
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW {MD}.{name}")
    op.drop_index("ix_agg_trades_symbol_ts_ms", table_name="agg_trades", schema=MD)
    for table in reversed(TABLES):
        op.drop_table(table, schema=MD)
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {_list(SCHEMAS)} FROM {drift}")
    op.execute(f"REVOKE USAGE ON SCHEMA {_list(SCHEMAS)} FROM {drift}")

"""Schema `market_data`: klines per market and per-source ingest liveness, written by gordon-data."""

from __future__ import annotations

import sqlalchemy as sa

from migrations.tables.base import metadata

TIMEFRAMES: tuple[str, ...] = ("1m", "5m", "15m", "1h", "4h", "1d")


def _klines(name: str) -> sa.Table:
    """One klines table; spot and perp share the shape and differ only in name."""
    return sa.Table(
        name,
        metadata,
        sa.Column("symbol", sa.Text, primary_key=True),
        sa.Column("tf", sa.Text, primary_key=True),
        sa.Column("open_time_ms", sa.BigInteger, primary_key=True),
        sa.Column("close_time_ms", sa.BigInteger, nullable=False),
        sa.Column("open", sa.Double, nullable=False),
        sa.Column("high", sa.Double, nullable=False),
        sa.Column("low", sa.Double, nullable=False),
        sa.Column("close", sa.Double, nullable=False),
        sa.Column("volume", sa.Numeric, nullable=False),
        sa.Column("quote_volume", sa.Numeric, nullable=False),
        sa.Column("trades", sa.Integer, nullable=False),
        sa.CheckConstraint("symbol ~ '^[A-Z0-9]+$'", name="symbol_binance_native"),
        sa.CheckConstraint("tf IN ('1m', '5m', '15m', '1h', '4h', '1d')", name="tf"),
        sa.CheckConstraint("high >= low", name="high_not_below_low"),
        sa.CheckConstraint("close_time_ms > open_time_ms", name="close_after_open"),
        schema="market_data",
    )


spot_klines = _klines("spot_klines")
perp_klines = _klines("perp_klines")

source_freshness = sa.Table(
    "source_freshness",
    metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("last_event_ms", sa.BigInteger, nullable=False),
    sa.Column("last_ingest_ms", sa.BigInteger, nullable=False),
    schema="market_data",
)

"""Schema `market_data`: klines per market, derivatives, sentiment, macro and options data, and per-source
ingest liveness, all written by gordon-data (runtime services read them through views, see revision 0010)."""

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

BINANCE_SYMBOL = "symbol ~ '^[A-Z0-9]+$'"
METRICS: tuple[str, ...] = ("vpin", "long_short_ratio")
MACRO_SERIES: tuple[str, ...] = ("dxy", "vix")
FEAR_GREED_CLASSES: tuple[str, ...] = ("extreme_fear", "fear", "neutral", "greed", "extreme_greed")
GEX_REGIMES: tuple[str, ...] = ("positive", "negative")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


funding_rates = sa.Table(
    "funding_rates",
    metadata,
    sa.Column("symbol", sa.Text, primary_key=True),
    sa.Column("funding_time_ms", sa.BigInteger, primary_key=True),
    sa.Column("rate", sa.Double, nullable=False),
    sa.Column("mark_price", sa.Double, nullable=False),
    sa.CheckConstraint(BINANCE_SYMBOL, name="symbol_binance_native"),
    sa.CheckConstraint("mark_price > 0", name="mark_price_positive"),
    schema="market_data",
)

open_interest = sa.Table(
    "open_interest",
    metadata,
    sa.Column("symbol", sa.Text, primary_key=True),
    sa.Column("ts_ms", sa.BigInteger, primary_key=True),
    sa.Column("open_interest", sa.Numeric, nullable=False),
    sa.Column("open_interest_usd", sa.Double, nullable=False),
    sa.CheckConstraint(BINANCE_SYMBOL, name="symbol_binance_native"),
    sa.CheckConstraint("open_interest >= 0 AND open_interest_usd >= 0", name="not_negative"),
    schema="market_data",
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("symbol", sa.Text, primary_key=True),
    sa.Column("metric", sa.Text, primary_key=True),
    sa.Column("ts_ms", sa.BigInteger, primary_key=True),
    sa.Column("value", sa.Double, nullable=False),
    sa.CheckConstraint(BINANCE_SYMBOL, name="symbol_binance_native"),
    sa.CheckConstraint(_in("metric", METRICS), name="metric"),
    sa.CheckConstraint("metric <> 'vpin' OR (value >= 0 AND value <= 1)", name="vpin_is_a_fraction"),
    sa.CheckConstraint("metric <> 'long_short_ratio' OR value > 0", name="long_short_ratio_positive"),
    schema="market_data",
)

macro_data = sa.Table(
    "macro_data",
    metadata,
    sa.Column("series", sa.Text, primary_key=True),
    sa.Column("ts_ms", sa.BigInteger, primary_key=True),
    sa.Column("value", sa.Double, nullable=False),
    sa.CheckConstraint(_in("series", MACRO_SERIES), name="series"),
    schema="market_data",
)

fear_greed = sa.Table(
    "fear_greed",
    metadata,
    sa.Column("ts_ms", sa.BigInteger, primary_key=True),
    sa.Column("value", sa.SmallInteger, nullable=False),
    sa.Column("classification", sa.Text, nullable=False),
    sa.CheckConstraint("value >= 0 AND value <= 100", name="value_0_to_100"),
    sa.CheckConstraint(_in("classification", FEAR_GREED_CLASSES), name="classification"),
    schema="market_data",
)

stablecoin_supply = sa.Table(
    "stablecoin_supply",
    metadata,
    sa.Column("ts_ms", sa.BigInteger, primary_key=True),
    sa.Column("supply_usd", sa.Double, nullable=False),
    sa.Column("ssr", sa.Double, nullable=False),
    sa.CheckConstraint("supply_usd > 0 AND ssr > 0", name="positive"),
    schema="market_data",
)

gamma_exposure = sa.Table(
    "gamma_exposure",
    metadata,
    sa.Column("symbol", sa.Text, primary_key=True),
    sa.Column("ts_ms", sa.BigInteger, primary_key=True),
    sa.Column("total_gex", sa.Double, nullable=False),
    sa.Column("flip_price", sa.Double, nullable=True),
    sa.Column("call_wall", sa.Double, nullable=False),
    sa.Column("put_wall", sa.Double, nullable=False),
    sa.Column("regime", sa.Text, nullable=False),
    sa.CheckConstraint(BINANCE_SYMBOL, name="symbol_binance_native"),
    sa.CheckConstraint(_in("regime", GEX_REGIMES), name="regime"),
    schema="market_data",
)

gamma_exposure_strikes = sa.Table(
    "gamma_exposure_strikes",
    metadata,
    sa.Column("symbol", sa.Text, primary_key=True),
    sa.Column("ts_ms", sa.BigInteger, primary_key=True),
    sa.Column("strike", sa.Double, primary_key=True),
    sa.Column("gex", sa.Double, nullable=False),
    sa.ForeignKeyConstraint(
        ["symbol", "ts_ms"],
        ["market_data.gamma_exposure.symbol", "market_data.gamma_exposure.ts_ms"],
        ondelete="CASCADE",
    ),
    sa.CheckConstraint("strike > 0", name="strike_positive"),
    schema="market_data",
)

agg_trades = sa.Table(
    "agg_trades",
    metadata,
    sa.Column("symbol", sa.Text, primary_key=True),
    sa.Column("agg_id", sa.BigInteger, primary_key=True),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("price", sa.Double, nullable=False),
    sa.Column("qty", sa.Numeric, nullable=False),
    sa.Column("buyer_maker", sa.Boolean, nullable=False),
    sa.CheckConstraint(BINANCE_SYMBOL, name="symbol_binance_native"),
    sa.CheckConstraint("price > 0 AND qty > 0", name="positive"),
    sa.Index("ix_agg_trades_symbol_ts_ms", "symbol", "ts_ms"),
    schema="market_data",
)

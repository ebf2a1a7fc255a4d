"""Market data: klines published by the data service."""

from __future__ import annotations

from registry.event import Event
from registry.subject import ConsumerSpec, Service, StartAt, Subject, Tier
from schemas.common import (
    BOT_UUID,
    MARKET,
    SYMBOL_LC,
    TF,
    Count,
    DecimalStr,
    Market,
    Price,
    Symbol,
    Timeframe,
    TimestampMs,
)


class Kline(Event, version=1):
    """One candle of one symbol and time frame; `closed` is false while the candle is still forming."""

    symbol: Symbol
    market: Market
    tf: Timeframe
    open_time_ms: TimestampMs
    close_time_ms: TimestampMs
    open: Price
    high: Price
    low: Price
    close: Price
    volume: DecimalStr
    quote_volume: DecimalStr
    trades: Count
    closed: bool = True

    EXAMPLES = (
        {
            "symbol": "BTCUSDT",
            "market": "spot",
            "tf": "1m",
            "open_time_ms": 1732000000000,
            "close_time_ms": 1732000059999,
            "open": 64200.0,
            "high": 64260.1,
            "low": 64190.0,
            "close": 64250.5,
            "volume": "12.345",
            "quote_volume": "793000.12",
            "trades": 1520,
        },
    )


KLINES = Subject(
    "market.klines.binance.{market}.{symbol_lc}.{tf}",
    Kline,
    producer=Service.DATA,
    params=(MARKET, SYMBOL_LC, TF),
    consumers=(
        ConsumerSpec(
            Service.BOT,
            "bot-{bot_id}-{market}-{symbol_lc}-{tf}-klines",
            binds=("market", "symbol_lc", "tf"),
            instance=(BOT_UUID,),
            start_at=StartAt.NEW,
            max_ack_pending=1,
            description="One durable per bot and series, one kline in flight so a retried one is "
            "never overtaken; a new bot starts at new klines and warms up from v_klines_reader.",
        ),
        ConsumerSpec(
            Service.RISK,
            "risk-klines",
            start_at=StartAt.NEW,
            description="Drawdown marks, the connectivity breaker and the correlation of the bots' symbols.",
        ),
    ),
    tier=Tier.BEST_EFFORT,
    summary="Klines from Binance (1m canonical; 5m, 15m, 1h aggregated by the data service).",
)

"""Fills and klines for the risk tests: spot series (BTCUSDT unless named), prices and fees as given."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from registry.ids import uuid7
from schemas.common import Market, Side, Timeframe
from schemas.market import Kline
from schemas.trading import Fill, Liquidity


def fill(bot: UUID, version: int, side: Side, qty: str, price: float, fee: str, ts_ms: int) -> Fill:
    return Fill(
        fill_id=uuid7(),
        bot_id=bot,
        order_id=uuid7(),
        version=version,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=side,
        qty=Decimal(qty),
        price=price,
        fee=Decimal(fee),
        fee_asset="USDT",
        liquidity=Liquidity.TAKER,
        ts_ms=ts_ms,
    )


def kline(close: float, close_time_ms: int, symbol: str = "BTCUSDT") -> Kline:
    return Kline(
        symbol=symbol,
        market=Market.SPOT,
        tf=Timeframe.M1,
        open_time_ms=close_time_ms - 59_999,
        close_time_ms=close_time_ms,
        open=close,
        high=close,
        low=close,
        close=close,
        volume=Decimal("1"),
        quote_volume=Decimal(str(close)),
        trades=1,
    )

"""One realistic payload of every declared subject, for benchmarks and round-trip tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from registry.event import Event
from registry.ids import uuid7
from schemas.common import Market, OrderType, Side, Timeframe
from schemas.intents import OrderIntent
from schemas.market import Kline
from schemas.risk import Breaker, BreakerEvent, CommandKind, LatchAction, RiskCommand
from schemas.trading import Fill, Liquidity, OrderEvent, OrderEventKind

T0 = 1_767_225_600_000


def samples() -> dict[type[Event], Event]:
    """A valid instance of every payload model, keyed by its class."""
    bot, order, intent = uuid7(), uuid7(), uuid7()
    trade: dict[str, Any] = dict(symbol="BTCUSDT", market=Market.SPOT, side=Side.BUY)
    return {
        Kline: Kline(
            symbol="BTCUSDT",
            market=Market.SPOT,
            tf=Timeframe.M1,
            open_time_ms=T0,
            close_time_ms=T0 + 59_999,
            open=94_210.5,
            high=94_388.0,
            low=94_100.25,
            close=94_301.75,
            volume=Decimal("12.53120000"),
            quote_volume=Decimal("1181559.71"),
            trades=1843,
        ),
        OrderIntent: OrderIntent(
            intent_id=intent,
            bot_id=bot,
            order_type=OrderType.MARKET,
            qty=Decimal("0.0015"),
            created_ms=T0,
            valid_until_ms=T0 + 5_000,
            reason="sma cross up",
            **trade,
        ),
        OrderEvent: OrderEvent(
            order_id=order,
            version=1,
            kind=OrderEventKind.SUBMITTED,
            bot_id=bot,
            intent_id=intent,
            order_type=OrderType.MARKET,
            qty=Decimal("0.0015"),
            filled_qty=Decimal("0"),
            ts_ms=T0,
            **trade,
        ),
        Fill: Fill(
            fill_id=uuid7(),
            bot_id=bot,
            order_id=order,
            version=1,
            qty=Decimal("0.0015"),
            price=94_301.75,
            fee=Decimal("0.14145"),
            fee_asset="USDT",
            liquidity=Liquidity.TAKER,
            ts_ms=T0,
            **trade,
        ),
        BreakerEvent: BreakerEvent(
            version=1,
            breaker=Breaker.DRAWDOWN,
            action=LatchAction.TRIP,
            value=0.061,
            threshold=0.05,
            message="drawdown 6.1% over 5%",
            ts_ms=T0,
        ),
        RiskCommand: RiskCommand(
            command_id=uuid7(), command=CommandKind.FLATTEN, reason="drawdown", issued_ms=T0
        ),
    }

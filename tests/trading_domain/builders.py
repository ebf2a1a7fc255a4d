"""Payload builders for the pure domain tests: fixed ids, explicit versions and timestamps."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from schemas.common import Market, OrderType, Side
from schemas.risk import Breaker, BreakerEvent, LatchAction
from schemas.trading import Fill, Liquidity, OrderEvent, OrderEventKind

BOT = UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60")
ORDER = UUID("01935f0e-8c2a-7b3d-9f10-000000000001")
INTENT = UUID("01935f0e-8c2a-7b3d-9f10-000000000002")
FILL = UUID("01935f0e-8c2a-7b3d-9f10-000000000003")


def order_event(
    version: int,
    kind: OrderEventKind,
    filled_qty: str = "0",
    *,
    qty: str = "2",
    reason: str = "",
    ts_ms: int | None = None,
    order_id: UUID = ORDER,
) -> OrderEvent:
    """One event of the test order (a 2 BTC limit buy at 100)."""
    return OrderEvent(
        order_id=order_id,
        version=version,
        kind=kind,
        bot_id=BOT,
        intent_id=INTENT,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal(qty),
        limit_price=100.0,
        filled_qty=Decimal(filled_qty),
        reason=reason,
        ts_ms=1_700_000_000_000 + version if ts_ms is None else ts_ms,
    )


def history(*steps: tuple[OrderEventKind, str]) -> list[OrderEvent]:
    """Events 1..n of the test order from (kind, cumulative filled_qty) steps."""
    return [order_event(i, kind, filled) for i, (kind, filled) in enumerate(steps, start=1)]


def fill(
    version: int,
    side: Side,
    qty: str,
    price: float,
    fee: str = "0",
    fee_asset: str = "USDT",
    *,
    symbol: str = "BTCUSDT",
    market: Market = Market.SPOT,
) -> Fill:
    """One fill of the test bot."""
    return Fill(
        fill_id=FILL,
        bot_id=BOT,
        order_id=ORDER,
        version=version,
        symbol=symbol,
        market=market,
        side=side,
        qty=Decimal(qty),
        price=price,
        fee=Decimal(fee),
        fee_asset=fee_asset,
        liquidity=Liquidity.TAKER,
        ts_ms=1_700_000_000_000 + version,
    )


def breaker_event(version: int, action: LatchAction, breaker: Breaker = Breaker.DRAWDOWN) -> BreakerEvent:
    """One change of the global latch."""
    return BreakerEvent(
        version=version,
        breaker=breaker,
        action=action,
        message=f"{action.value} {version}",
        ts_ms=1_700_000_000_000 + version,
    )

"""Trading: the order lifecycle and fills, published by the executor."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from registry.event import Event
from registry.subject import ConsumerSpec, Service, Subject, Tier
from schemas.common import (
    BOT_ID,
    DecimalStr,
    Market,
    OrderType,
    Price,
    Side,
    Symbol,
    TimestampMs,
    Version,
)


class OrderEventKind(StrEnum):
    SUBMITTED = "submitted"
    ACKED = "acked"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class OrderEvent(Event, version=1):
    """One transition of one order; `version` is gapless per `order_id`."""

    order_id: UUID
    version: Version
    kind: OrderEventKind
    bot_id: UUID
    intent_id: UUID
    symbol: Symbol
    market: Market
    side: Side
    order_type: OrderType
    qty: DecimalStr
    limit_price: Price | None = None
    filled_qty: DecimalStr
    reason: str = ""
    ts_ms: TimestampMs

    EXAMPLES = (
        {
            "order_id": "01935f0e-9000-7000-8000-000000000002",
            "version": 1,
            "kind": "submitted",
            "bot_id": "01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60",
            "intent_id": "01935f0e-9000-7000-8000-000000000001",
            "symbol": "BTCUSDT",
            "market": "spot",
            "side": "buy",
            "order_type": "limit",
            "qty": "0.015",
            "limit_price": 64250.5,
            "filled_qty": "0",
            "ts_ms": 1732000000000,
        },
    )


class Fill(Event, version=1):
    """An execution; `version` is gapless per bot and symbol."""

    fill_id: UUID
    bot_id: UUID
    order_id: UUID
    version: Version
    symbol: Symbol
    market: Market
    side: Side
    qty: DecimalStr
    price: Price
    fee: DecimalStr
    fee_asset: str
    liquidity: Liquidity
    ts_ms: TimestampMs
    priced_at_ms: TimestampMs | None = Field(
        default=None,
        description="The market time the price is from: the open time of the 1m kline whose close priced it "
        "(paper exchange); null when the venue does not say. A chart marks the fill there.",
    )

    EXAMPLES = (
        {
            "fill_id": "01935f0e-9000-7000-8000-000000000003",
            "bot_id": "01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60",
            "order_id": "01935f0e-9000-7000-8000-000000000002",
            "version": 1,
            "symbol": "BTCUSDT",
            "market": "spot",
            "side": "buy",
            "qty": "0.015",
            "price": 64250.5,
            "fee": "0.0000015",
            "fee_asset": "BTC",
            "liquidity": "taker",
            "ts_ms": 1732000000000,
            "priced_at_ms": 1731999940000,
        },
    )


ORDERS = Subject(
    "trading.orders.{bot_id}",
    OrderEvent,
    producer=Service.EXECUTOR,
    params=(BOT_ID,),
    consumers=(ConsumerSpec(Service.MANAGER, "manager-orders"),),
    tier=Tier.AT_LEAST_ONCE,
    summary="Order lifecycle: submitted, acked, rejected, cancelled, partially filled, filled.",
)

FILLS = Subject(
    "trading.fills.{bot_id}",
    Fill,
    producer=Service.EXECUTOR,
    params=(BOT_ID,),
    consumers=(
        ConsumerSpec(Service.MANAGER, "manager-fills"),
        ConsumerSpec(Service.RISK, "risk-fills", description="Drawdown breaker."),
    ),
    tier=Tier.AT_LEAST_ONCE,
    summary="Fills per bot (bot_id with underscores).",
)

"""Order intents: what a bot wants the executor to do."""

from __future__ import annotations

from uuid import UUID

from registry.event import Event
from registry.subject import ConsumerSpec, Service, Subject, Tier
from schemas.common import DecimalStr, Market, OrderType, Price, Side, Symbol, TimestampMs


class OrderIntent(Event, version=1):
    """A bot's request for an order; `intent_id` (UUIDv7) is the executor's idempotency key."""

    intent_id: UUID
    bot_id: UUID
    symbol: Symbol
    market: Market
    side: Side
    order_type: OrderType
    qty: DecimalStr
    limit_price: Price | None = None
    created_ms: TimestampMs
    valid_until_ms: TimestampMs
    reason: str = ""

    EXAMPLES = (
        {
            "intent_id": "01935f0e-9000-7000-8000-000000000001",
            "bot_id": "01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60",
            "symbol": "BTCUSDT",
            "market": "spot",
            "side": "buy",
            "order_type": "limit",
            "qty": "0.015",
            "limit_price": 64250.5,
            "created_ms": 1732000000000,
            "valid_until_ms": 1732000005000,
        },
    )


INTENTS = Subject(
    "intents.executor",
    OrderIntent,
    producer=Service.BOT,
    params=(),
    consumers=(
        ConsumerSpec(
            Service.EXECUTOR,
            "executor-default",
            ack_wait_s=10.0,
            description="Idempotent on intent_id; expired intents are dropped. An intent left unacked by a "
            "stopping executor comes back after 10 s, well inside its validity.",
        ),
    ),
    tier=Tier.AT_LEAST_ONCE_DEDUPED,
    summary="Order intents from every bot to the executor.",
)

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

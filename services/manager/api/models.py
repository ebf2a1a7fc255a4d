"""Response and request bodies as the browser sees them: camelCase keys, decimals as strings.

Every model derives its aliases with `to_camel`; routes answer `by_alias`, so /openapi.json documents
the camelCase keys. Domain states and bus events stay snake_case: the conversion happens here only.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from domain.latch import LatchState
from domain.orders import OrderState, OrderStatus
from domain.positions import PositionState
from schemas.common import Market, OrderType, Side
from schemas.risk import Breaker, BreakerEvent, LatchAction

DECIMAL = "a decimal number as a string, in positional notation"


def decimal_text(value: Decimal) -> str:
    """`value` without an exponent ("0.00000000", never "0E-8"), as JavaScript's Number() reads it."""
    return format(value, "f")


class CamelModel(BaseModel):
    """A body whose JSON keys are the camelCase of its fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Order(CamelModel):
    order_id: UUID
    bot_id: UUID
    intent_id: UUID
    symbol: str
    market: Market
    side: Side
    order_type: OrderType
    qty: str = Field(description=DECIMAL)
    limit_price: float | None
    status: OrderStatus
    filled_qty: str = Field(description=DECIMAL)
    reason: str
    version: int
    created_ms: int
    updated_ms: int

    @classmethod
    def of(cls, state: OrderState) -> Order:
        return cls(
            order_id=state.order_id,
            bot_id=state.bot_id,
            intent_id=state.intent_id,
            symbol=state.symbol,
            market=state.market,
            side=state.side,
            order_type=state.order_type,
            qty=decimal_text(state.qty),
            limit_price=state.limit_price,
            status=state.status,
            filled_qty=decimal_text(state.filled_qty),
            reason=state.reason,
            version=state.version,
            created_ms=state.created_ms,
            updated_ms=state.updated_ms,
        )


class OrderPage(CamelModel):
    items: list[Order]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class Position(CamelModel):
    bot_id: UUID
    symbol: str
    market: Market
    qty: str = Field(description=DECIMAL + " (negative: short)")
    avg_entry_price: str = Field(description=DECIMAL)
    realized_pnl: str = Field(description=DECIMAL)
    fees: str = Field(description=DECIMAL)
    version: int
    updated_ms: int

    @classmethod
    def of(cls, state: PositionState) -> Position:
        return cls(
            bot_id=state.bot_id,
            symbol=state.symbol,
            market=state.market,
            qty=decimal_text(state.qty),
            avg_entry_price=decimal_text(state.avg_entry_price),
            realized_pnl=decimal_text(state.realized_pnl),
            fees=decimal_text(state.fees),
            version=state.version,
            updated_ms=state.updated_ms,
        )


class PositionList(CamelModel):
    items: list[Position]


class Latch(CamelModel):
    latch_id: str
    halted: bool
    breaker: Breaker | None = Field(description="the breaker of the last change (manual for a resume)")
    reason: str
    version: int
    changed_ms: int
    trips: int = Field(description="trips since the last resume")

    @classmethod
    def of(cls, state: LatchState) -> Latch:
        return cls(
            latch_id=state.latch_id,
            halted=state.halted,
            breaker=state.breaker,
            reason=state.reason,
            version=state.version,
            changed_ms=state.changed_ms,
            trips=state.trips,
        )


class BreakerChange(CamelModel):
    event_id: UUID
    latch_id: str
    version: int
    breaker: Breaker
    action: LatchAction
    value: float | None
    threshold: float | None
    bot_id: UUID | None
    message: str
    ts_ms: int

    @classmethod
    def of(cls, event: BreakerEvent) -> BreakerChange:
        return cls(
            event_id=event.event_id,
            latch_id=event.latch_id,
            version=event.version,
            breaker=event.breaker,
            action=event.action,
            value=event.value,
            threshold=event.threshold,
            bot_id=event.bot_id,
            message=event.message,
            ts_ms=event.ts_ms,
        )


class RiskView(CamelModel):
    latch: Latch
    recent_events: list[BreakerChange] = Field(description="breaker events the manager saw, newest first")

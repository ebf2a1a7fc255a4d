"""The one order state machine: its transition table and the pure reducer over `OrderEvent` payloads.

The write-side `Order` aggregate and the orders projection both go through `TRANSITIONS` and `apply_order`,
so an order can never reach a state on one side that the other would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID

from domain.versions import check_next
from schemas.common import Market, OrderType, Side
from schemas.trading import OrderEvent, OrderEventKind


class OrderStatus(StrEnum):
    SUBMITTED = "submitted"
    ACKED = "acked"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


TERMINAL: frozenset[OrderStatus] = frozenset(
    {OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.CANCELLED}
)

_S = OrderStatus
_K = OrderEventKind
TRANSITIONS: Mapping[tuple[OrderStatus | None, OrderEventKind], OrderStatus] = MappingProxyType(
    {
        (None, _K.SUBMITTED): _S.SUBMITTED,
        (_S.SUBMITTED, _K.ACKED): _S.ACKED,
        (_S.SUBMITTED, _K.REJECTED): _S.REJECTED,
        (_S.SUBMITTED, _K.CANCELLED): _S.CANCELLED,
        (_S.ACKED, _K.PARTIALLY_FILLED): _S.PARTIALLY_FILLED,
        (_S.ACKED, _K.FILLED): _S.FILLED,
        (_S.ACKED, _K.CANCELLED): _S.CANCELLED,
        (_S.PARTIALLY_FILLED, _K.PARTIALLY_FILLED): _S.PARTIALLY_FILLED,
        (_S.PARTIALLY_FILLED, _K.FILLED): _S.FILLED,
        (_S.PARTIALLY_FILLED, _K.CANCELLED): _S.CANCELLED,
    }
)
"""(status before, event kind) -> status after; `None` is an order that does not exist yet."""

FILL_KINDS: frozenset[OrderEventKind] = frozenset({_K.PARTIALLY_FILLED, _K.FILLED})


class IllegalTransition(ValueError):
    """An event kind that the order's current status does not allow."""

    def __init__(self, order_id: UUID, status: OrderStatus | None, kind: OrderEventKind) -> None:
        self.order_id = order_id
        self.status = status
        self.kind = kind
        before = "no order" if status is None else status.value
        super().__init__(f"order {order_id}: {kind.value} is not allowed from {before}")


class BadFilledQty(ValueError):
    """A cumulative filled quantity that goes down, exceeds the order, or disagrees with the kind."""


class OrderMismatch(ValueError):
    """An event whose fixed order fields (bot, intent, symbol, side, qty, ...) differ from the order's."""


def next_status(order_id: UUID, status: OrderStatus | None, kind: OrderEventKind) -> OrderStatus:
    """The status after `kind`, or `IllegalTransition`."""
    after = TRANSITIONS.get((status, kind))
    if after is None:
        raise IllegalTransition(order_id, status, kind)
    return after


@dataclass(frozen=True)
class OrderState:
    """One order as the events so far describe it; `filled_qty` is cumulative."""

    order_id: UUID
    bot_id: UUID
    intent_id: UUID
    symbol: str
    market: Market
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: float | None
    status: OrderStatus
    filled_qty: Decimal
    reason: str
    version: int
    created_ms: int
    updated_ms: int


_COPIED = tuple(f for f in OrderEvent.model_fields if f in {s.name for s in fields(OrderState)})
"""What an order's state takes from its events under the same name (the rest: status and timestamps)."""
CHANGING = ("version", "filled_qty", "reason")
"""What each event may move; the other copied fields are the order's identity and terms."""
TERMS = tuple(f for f in _COPIED if f not in CHANGING and f != "order_id")
"""The terms a submission sets and every later event repeats (bot, intent, symbol, side, qty, ...)."""


def check_filled_qty(
    order_id: UUID, kind: OrderEventKind, qty: Decimal, before: Decimal, after: Decimal
) -> None:
    """Refuse a cumulative `after` that the event kind cannot produce from `before`."""
    if kind in FILL_KINDS:
        if after <= before:
            raise BadFilledQty(
                f"order {order_id}: {kind.value} must raise filled_qty above {before}, got {after}"
            )
        if after > qty:
            raise BadFilledQty(f"order {order_id}: filled_qty {after} exceeds the order qty {qty}")
        if kind is _K.FILLED and after != qty:
            raise BadFilledQty(f"order {order_id}: filled needs filled_qty = qty {qty}, got {after}")
        if kind is _K.PARTIALLY_FILLED and after == qty:
            raise BadFilledQty(f"order {order_id}: partially_filled up to the full qty {qty} must be filled")
    elif after != before:
        raise BadFilledQty(f"order {order_id}: {kind.value} cannot change filled_qty {before} to {after}")


def apply_order(state: OrderState | None, event: OrderEvent) -> OrderState:
    """The order after `event`; refuses stale or gapped versions, illegal transitions and bad quantities."""
    name = f"order {event.order_id}"
    if state is None:
        check_next(name, 0, event.version)
        status = next_status(event.order_id, None, event.kind)
        if event.qty <= 0:
            raise BadFilledQty(f"{name}: qty must be positive, got {event.qty}")
        check_filled_qty(event.order_id, event.kind, event.qty, Decimal(0), event.filled_qty)
        copied = {f: getattr(event, f) for f in _COPIED}
        return OrderState(**copied, status=status, created_ms=event.ts_ms, updated_ms=event.ts_ms)
    if event.order_id != state.order_id:
        raise OrderMismatch(f"{name}: event applied to order {state.order_id}")
    check_next(name, state.version, event.version)
    for field in TERMS:
        if getattr(event, field) != getattr(state, field):
            raise OrderMismatch(
                f"{name}: {field} {getattr(event, field)} differs from {getattr(state, field)}"
            )
    status = next_status(state.order_id, state.status, event.kind)
    check_filled_qty(state.order_id, event.kind, state.qty, state.filled_qty, event.filled_qty)
    moved = {f: getattr(event, f) for f in CHANGING}
    return replace(state, **moved, status=status, updated_ms=event.ts_ms)

"""The write-side `Order` aggregate (eventsourcing): decides transitions, and its events carry `OrderEvent`s.

Commands check `TRANSITIONS` before any event is triggered; each eventsourcing event holds the bus payload
itself and folds it through `apply_order`, so the aggregate's `state` is exactly what the orders projection
will compute, and the payload's fields are written once (in `schemas.trading`).
Aggregate id = order_id; eventsourcing versions start at 1, as `OrderEvent.version` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.carrying import Carrying
from domain.orders import (
    TERMS,
    BadFilledQty,
    OrderState,
    OrderStatus,
    apply_order,
    check_filled_qty,
    next_status,
)
from domain.timestamps import ms_to_datetime
from registry.ids import uuid7
from schemas.trading import OrderEvent, OrderEventKind


class Order(Carrying[OrderEvent, OrderState]):
    """One order: `Order.submit(...)` creates it; ack, reject, cancel and fill advance it."""

    @dataclass(frozen=True)
    class Submitted(Aggregate.Created):
        """The order's first event: its `submitted` payload."""

        payload: OrderEvent

    @event(Submitted)
    def __init__(self, payload: OrderEvent) -> None:
        self.state = apply_order(None, payload)

    def fold(self, state: OrderState, payload: OrderEvent) -> OrderState:
        return apply_order(state, payload)

    @classmethod
    def submit(cls, *, order_id: UUID, ts_ms: int, **terms: Any) -> Order:
        """A new order in `submitted` on `terms` (exactly `TERMS`); its version-1 `OrderEvent` is pending."""
        if terms.keys() != set(TERMS):
            wrong = sorted(terms.keys() ^ set(TERMS))
            raise TypeError(f"order {order_id}: submit needs exactly the terms {TERMS}; wrong: {wrong}")
        next_status(order_id, None, OrderEventKind.SUBMITTED)
        if terms["qty"] <= 0:
            raise BadFilledQty(f"order {order_id}: qty must be positive, got {terms['qty']}")
        payload = OrderEvent(
            event_id=uuid7(ts_ms),
            order_id=order_id,
            version=1,
            kind=OrderEventKind.SUBMITTED,
            filled_qty=Decimal(0),
            ts_ms=ts_ms,
            **terms,
        )
        return cls._begin(payload)

    @classmethod
    def _begin(cls, payload: OrderEvent) -> Order:
        return cls._create(
            cls.Submitted, id=payload.order_id, timestamp=ms_to_datetime(payload.ts_ms), payload=payload
        )

    @property
    def status(self) -> OrderStatus:
        return self.state.status

    def ack(self, *, ts_ms: int) -> None:
        """The exchange accepted the order."""
        self._decide(OrderEventKind.ACKED, self.state.filled_qty, "", ts_ms)

    def reject(self, reason: str, *, ts_ms: int) -> None:
        """The exchange refused the order."""
        self._decide(OrderEventKind.REJECTED, self.state.filled_qty, reason, ts_ms)

    def cancel(self, reason: str, *, ts_ms: int) -> None:
        """The order is cancelled, before or after partial fills."""
        self._decide(OrderEventKind.CANCELLED, self.state.filled_qty, reason, ts_ms)

    def fill(self, qty: Decimal, *, ts_ms: int) -> None:
        """`qty` more was executed: partially_filled, or filled when the order is complete."""
        if qty <= 0:
            raise BadFilledQty(f"order {self.id}: fill qty must be positive, got {qty}")
        after = self.state.filled_qty + qty
        kind = OrderEventKind.FILLED if after == self.state.qty else OrderEventKind.PARTIALLY_FILLED
        self._decide(kind, after, "", ts_ms)

    def _decide(self, kind: OrderEventKind, filled_qty: Decimal, reason: str, ts_ms: int) -> None:
        state = self.state
        next_status(self.id, state.status, kind)
        check_filled_qty(self.id, kind, state.qty, state.filled_qty, filled_qty)
        payload = OrderEvent(
            event_id=uuid7(ts_ms),
            order_id=state.order_id,
            version=state.version + 1,
            kind=kind,
            filled_qty=filled_qty,
            reason=reason,
            ts_ms=ts_ms,
            **{f: getattr(state, f) for f in TERMS},
        )
        self._record(payload, ts_ms)

    @classmethod
    def from_events(cls, events: Sequence[OrderEvent]) -> Order:
        """Rebuild an order from its stored `OrderEvent`s (version order), with nothing pending.

        Each event is folded by `apply_order` as it is replayed, so a gap, a stale version, an illegal
        transition or a mismatched field raises the reducer's own error.
        """
        if not events:
            raise ValueError("an order needs at least its submitted event")
        order = cls._begin(events[0])
        order._replay(events[1:])
        order.collect_events()
        return order

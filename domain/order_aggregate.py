"""The write-side `Order` aggregate (eventsourcing): decides transitions and emits `OrderEvent` payloads.

Commands check `TRANSITIONS` before any event is triggered; each event then folds its own `OrderEvent`
through `apply_order`, so the aggregate's `state` is exactly what the orders projection will compute.
Aggregate id = order_id; eventsourcing versions start at 1, as `OrderEvent.version` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.orders import (
    BadFilledQty,
    OrderState,
    OrderStatus,
    apply_order,
    check_filled_qty,
    next_status,
)
from domain.timestamps import ms_to_datetime
from registry.ids import uuid7
from schemas.common import Market, OrderType, Side
from schemas.trading import OrderEvent, OrderEventKind


class Order(Aggregate):
    """One order: `Order.submit(...)` creates it; ack, reject, cancel and fill advance it."""

    class Event(Aggregate.Event):
        KIND: ClassVar[OrderEventKind]

    @dataclass(frozen=True)
    class Submitted(Aggregate.Created, Event):
        KIND = OrderEventKind.SUBMITTED
        event_id: UUID
        ts_ms: int
        bot_id: UUID
        intent_id: UUID
        symbol: str
        market: Market
        side: Side
        order_type: OrderType
        qty: Decimal
        limit_price: float | None

    @dataclass(frozen=True)
    class Changed(Event):
        """Every transition after submission carries the same fields."""

        event_id: UUID
        ts_ms: int
        filled_qty: Decimal
        reason: str

    class Acked(Changed):
        KIND = OrderEventKind.ACKED

    class Rejected(Changed):
        KIND = OrderEventKind.REJECTED

    class Cancelled(Changed):
        KIND = OrderEventKind.CANCELLED

    class PartiallyFilled(Changed):
        KIND = OrderEventKind.PARTIALLY_FILLED

    class Filled(Changed):
        KIND = OrderEventKind.FILLED

    @event(Submitted)
    def __init__(
        self,
        id: UUID,  # eventsourcing passes the aggregate id by this name
        event_id: UUID,
        ts_ms: int,
        bot_id: UUID,
        intent_id: UUID,
        symbol: str,
        market: Market,
        side: Side,
        order_type: OrderType,
        qty: Decimal,
        limit_price: float | None,
    ) -> None:
        payload = OrderEvent(
            event_id=event_id,
            order_id=id,
            version=1,
            kind=OrderEventKind.SUBMITTED,
            bot_id=bot_id,
            intent_id=intent_id,
            symbol=symbol,
            market=market,
            side=side,
            order_type=order_type,
            qty=qty,
            limit_price=limit_price,
            filled_qty=Decimal(0),
            ts_ms=ts_ms,
        )
        self.state = apply_order(None, payload)

    @classmethod
    def submit(
        cls,
        *,
        order_id: UUID,
        bot_id: UUID,
        intent_id: UUID,
        symbol: str,
        market: Market,
        side: Side,
        order_type: OrderType,
        qty: Decimal,
        limit_price: float | None,
        ts_ms: int,
    ) -> Order:
        """A new order in `submitted`; its `OrderEvent` (version 1) is pending."""
        next_status(order_id, None, OrderEventKind.SUBMITTED)
        if qty <= 0:
            raise BadFilledQty(f"order {order_id}: qty must be positive, got {qty}")
        return cls(
            id=order_id,
            event_id=uuid7(ts_ms),
            ts_ms=ts_ms,
            bot_id=bot_id,
            intent_id=intent_id,
            symbol=symbol,
            market=market,
            side=side,
            order_type=order_type,
            qty=qty,
            limit_price=limit_price,
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
        next_status(self.id, self.state.status, kind)
        check_filled_qty(self.id, kind, self.state.qty, self.state.filled_qty, filled_qty)
        trigger = {
            OrderEventKind.ACKED: self._acked,
            OrderEventKind.REJECTED: self._rejected,
            OrderEventKind.CANCELLED: self._cancelled,
            OrderEventKind.PARTIALLY_FILLED: self._partially_filled,
            OrderEventKind.FILLED: self._filled,
        }[kind]
        trigger(event_id=uuid7(ts_ms), ts_ms=ts_ms, filled_qty=filled_qty, reason=reason)

    @event(Acked)
    def _acked(self, event_id: UUID, ts_ms: int, filled_qty: Decimal, reason: str) -> None:
        self._advance(OrderEventKind.ACKED, event_id, ts_ms, filled_qty, reason)

    @event(Rejected)
    def _rejected(self, event_id: UUID, ts_ms: int, filled_qty: Decimal, reason: str) -> None:
        self._advance(OrderEventKind.REJECTED, event_id, ts_ms, filled_qty, reason)

    @event(Cancelled)
    def _cancelled(self, event_id: UUID, ts_ms: int, filled_qty: Decimal, reason: str) -> None:
        self._advance(OrderEventKind.CANCELLED, event_id, ts_ms, filled_qty, reason)

    @event(PartiallyFilled)
    def _partially_filled(self, event_id: UUID, ts_ms: int, filled_qty: Decimal, reason: str) -> None:
        self._advance(OrderEventKind.PARTIALLY_FILLED, event_id, ts_ms, filled_qty, reason)

    @event(Filled)
    def _filled(self, event_id: UUID, ts_ms: int, filled_qty: Decimal, reason: str) -> None:
        self._advance(OrderEventKind.FILLED, event_id, ts_ms, filled_qty, reason)

    def _advance(
        self, kind: OrderEventKind, event_id: UUID, ts_ms: int, filled_qty: Decimal, reason: str
    ) -> None:
        # Runs while the event is applied: self.version is still the previous one.
        payload = self._payload(kind, self.version + 1, event_id, ts_ms, filled_qty, reason)
        self.state = apply_order(self.state, payload)

    def _payload(
        self,
        kind: OrderEventKind,
        version: int,
        event_id: UUID,
        ts_ms: int,
        filled_qty: Decimal,
        reason: str,
    ) -> OrderEvent:
        s = self.state
        return OrderEvent(
            event_id=event_id,
            order_id=s.order_id,
            version=version,
            kind=kind,
            bot_id=s.bot_id,
            intent_id=s.intent_id,
            symbol=s.symbol,
            market=s.market,
            side=s.side,
            order_type=s.order_type,
            qty=s.qty,
            limit_price=s.limit_price,
            filled_qty=filled_qty,
            reason=reason,
            ts_ms=ts_ms,
        )

    def _payload_of(self, domain_event: Any) -> OrderEvent:
        """The bus payload of one of this order's eventsourcing events."""
        if isinstance(domain_event, Order.Submitted):
            return self._payload(
                OrderEventKind.SUBMITTED,
                domain_event.originator_version,
                domain_event.event_id,
                domain_event.ts_ms,
                Decimal(0),
                "",
            )
        if isinstance(domain_event, Order.Changed):
            return self._payload(
                domain_event.KIND,
                domain_event.originator_version,
                domain_event.event_id,
                domain_event.ts_ms,
                domain_event.filled_qty,
                domain_event.reason,
            )
        raise TypeError(f"order {self.id}: not an order event: {domain_event!r}")

    def pending_payloads(self) -> list[OrderEvent]:
        """The `OrderEvent`s of the events not yet collected, in version order (does not clear them)."""
        return [self._payload_of(e) for e in self.pending_events]

    def collect_payloads(self) -> list[OrderEvent]:
        """Collect the pending events (as eventsourcing's `collect_events`) as `OrderEvent`s."""
        payloads = self.pending_payloads()
        self.collect_events()
        return payloads

    @classmethod
    def from_events(cls, events: Sequence[OrderEvent]) -> Order:
        """Rebuild an order from its stored `OrderEvent`s (version order), with nothing pending.

        The events are first folded with `apply_order`, so a gap, a stale version, an illegal transition
        or a mismatched field raises the reducer's own error.
        """
        if not events:
            raise ValueError("an order needs at least its submitted event")
        folded: OrderState | None = None
        for stored in events:
            folded = apply_order(folded, stored)  # only to refuse bad input with the reducer's errors
        first = events[0]
        order = cls._create(
            cls.Submitted,
            id=first.order_id,
            timestamp=ms_to_datetime(first.ts_ms),
            event_id=first.event_id,
            ts_ms=first.ts_ms,
            bot_id=first.bot_id,
            intent_id=first.intent_id,
            symbol=first.symbol,
            market=first.market,
            side=first.side,
            order_type=first.order_type,
            qty=first.qty,
            limit_price=first.limit_price,
        )
        classes = {
            c.KIND: c for c in (cls.Acked, cls.Rejected, cls.Cancelled, cls.PartiallyFilled, cls.Filled)
        }
        for stored in events[1:]:
            classes[stored.kind](
                originator_id=stored.order_id,
                originator_version=stored.version,
                timestamp=ms_to_datetime(stored.ts_ms),
                event_id=stored.event_id,
                ts_ms=stored.ts_ms,
                filled_qty=stored.filled_qty,
                reason=stored.reason,
            ).mutate(order)
        order.collect_events()
        return order

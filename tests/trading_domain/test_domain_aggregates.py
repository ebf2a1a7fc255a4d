"""Write-side aggregates: commands give gapless payloads, rebuild from payloads, agree with the reducers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from domain.latch import LatchNotHalted, LatchState, RiskLatch, apply_latch
from domain.order_aggregate import Order
from domain.orders import BadFilledQty, IllegalTransition, OrderState, OrderStatus, apply_order
from domain.versions import StaleVersion, VersionGap
from schemas.common import Market, OrderType, Side
from schemas.risk import Breaker, BreakerEvent, LatchAction
from schemas.trading import OrderEvent, OrderEventKind
from tests.trading_domain.builders import BOT, INTENT, ORDER

K = OrderEventKind
T0 = 1_700_000_000_000


def new_order(qty: str = "2") -> Order:
    return Order.submit(
        order_id=ORDER,
        bot_id=BOT,
        intent_id=INTENT,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal(qty),
        limit_price=100.0,
        ts_ms=T0,
    )


def fold_orders(events: list[OrderEvent]) -> OrderState | None:
    state: OrderState | None = None
    for e in events:
        state = apply_order(state, e)
    return state


def test_order_commands_give_gapless_payloads() -> None:
    order = new_order()
    order.ack(ts_ms=T0 + 1)
    order.fill(Decimal("0.5"), ts_ms=T0 + 2)
    order.fill(Decimal("0.7"), ts_ms=T0 + 3)
    order.fill(Decimal("0.8"), ts_ms=T0 + 4)
    payloads = order.collect_payloads()
    assert [(p.version, p.kind, p.filled_qty, p.ts_ms) for p in payloads] == [
        (1, K.SUBMITTED, Decimal(0), T0),
        (2, K.ACKED, Decimal(0), T0 + 1),
        (3, K.PARTIALLY_FILLED, Decimal("0.5"), T0 + 2),
        (4, K.PARTIALLY_FILLED, Decimal("1.2"), T0 + 3),
        (5, K.FILLED, Decimal("2.0"), T0 + 4),
    ]
    assert {p.order_id for p in payloads} == {ORDER}
    assert len({p.event_id for p in payloads}) == 5
    assert order.version == 5
    assert order.status is OrderStatus.FILLED
    assert order.pending_payloads() == []


def test_pending_payloads_are_stable_until_collected() -> None:
    order = new_order()
    order.reject("insufficient balance", ts_ms=T0 + 1)
    first = order.pending_payloads()
    assert first == order.pending_payloads()
    assert first == order.collect_payloads()
    assert first[1].reason == "insufficient balance"


def test_rebuilt_order_equals_the_original_and_the_fold() -> None:
    order = new_order()
    order.ack(ts_ms=T0 + 1)
    order.fill(Decimal("0.25"), ts_ms=T0 + 2)
    order.cancel("user", ts_ms=T0 + 3)
    payloads = order.collect_payloads()
    rebuilt = Order.from_events(payloads)
    assert rebuilt.state == order.state
    assert rebuilt.version == order.version == 4
    assert rebuilt.id == ORDER
    assert rebuilt.pending_events == []
    assert fold_orders(payloads) == order.state
    assert order.state.reason == "user"


def test_a_rebuilt_order_continues_the_version_sequence() -> None:
    order = new_order()
    order.ack(ts_ms=T0 + 1)
    rebuilt = Order.from_events(order.collect_payloads())
    rebuilt.fill(Decimal(2), ts_ms=T0 + 5)
    [payload] = rebuilt.collect_payloads()
    assert (payload.version, payload.kind, payload.filled_qty) == (3, K.FILLED, Decimal(2))


@pytest.mark.parametrize(
    ("setup", "command", "error"),
    [
        (
            [],
            lambda o: o.fill(Decimal(1), ts_ms=T0),
            "order {}: partially_filled is not allowed from submitted",
        ),
        (["ack"], lambda o: o.ack(ts_ms=T0), "order {}: acked is not allowed from acked"),
        (["ack"], lambda o: o.reject("late", ts_ms=T0), "order {}: rejected is not allowed from acked"),
        (["reject"], lambda o: o.cancel("x", ts_ms=T0), "order {}: cancelled is not allowed from rejected"),
        (
            ["ack", "fill_all"],
            lambda o: o.fill(Decimal(1), ts_ms=T0),
            "order {}: partially_filled is not allowed from filled",
        ),
    ],
)
def test_illegal_commands_raise_before_any_event(
    setup: list[str], command: Callable[[Order], None], error: str
) -> None:
    order = new_order()
    for step in setup:
        {
            "ack": lambda: order.ack(ts_ms=T0),
            "reject": lambda: order.reject("r", ts_ms=T0),
            "fill_all": lambda: order.fill(Decimal(2), ts_ms=T0),
        }[step]()
    before = (order.version, len(order.pending_events), order.state)
    with pytest.raises(IllegalTransition) as caught:
        command(order)
    assert str(caught.value) == error.format(ORDER)
    assert (order.version, len(order.pending_events), order.state) == before


def test_overfill_and_non_positive_fill_are_refused() -> None:
    order = new_order()
    order.ack(ts_ms=T0)
    with pytest.raises(BadFilledQty, match=r"filled_qty 2\.5 exceeds the order qty 2"):
        order.fill(Decimal("2.5"), ts_ms=T0)
    with pytest.raises(BadFilledQty, match="fill qty must be positive, got 0"):
        order.fill(Decimal(0), ts_ms=T0)
    assert order.version == 2


def test_from_events_refuses_bad_histories_with_the_reducers_errors() -> None:
    order = new_order()
    order.ack(ts_ms=T0 + 1)
    order.cancel("x", ts_ms=T0 + 2)
    payloads = order.collect_payloads()
    with pytest.raises(VersionGap):
        Order.from_events([payloads[0], payloads[2]])
    with pytest.raises(StaleVersion):
        Order.from_events([payloads[0], payloads[1], payloads[1]])
    with pytest.raises(VersionGap):
        Order.from_events(payloads[1:])
    filled_too_early = payloads[1].model_copy(update={"kind": K.FILLED, "filled_qty": Decimal(2)})
    with pytest.raises(IllegalTransition, match="filled is not allowed from submitted"):
        Order.from_events([payloads[0], filled_too_early])
    with pytest.raises(ValueError, match="at least its submitted event"):
        Order.from_events([])


def latch_fold(events: list[BreakerEvent]) -> LatchState | None:
    state: LatchState | None = None
    for e in events:
        state = apply_latch(state, e)
    return state


def test_latch_trip_trip_resume() -> None:
    latch = RiskLatch.open("global")
    assert (latch.version, latch.halted, latch.pending_events) == (0, False, [])
    latch.trip(Breaker.DRAWDOWN, 0.12, 0.10, "drawdown 12% over 10%", ts_ms=T0, bot_id=BOT)
    latch.trip(Breaker.VPIN, 0.9, 0.8, "vpin high", ts_ms=T0 + 1)
    assert latch.halted
    assert latch.state.trips == 2
    latch.resume("alice", "markets calm", ts_ms=T0 + 2)
    payloads = latch.collect_payloads()
    assert [(p.version, p.action, p.breaker, p.message) for p in payloads] == [
        (1, LatchAction.TRIP, Breaker.DRAWDOWN, "drawdown 12% over 10%"),
        (2, LatchAction.TRIP, Breaker.VPIN, "vpin high"),
        (3, LatchAction.RESUME, Breaker.MANUAL, "resumed by alice: markets calm"),
    ]
    assert (payloads[0].value, payloads[0].threshold, payloads[0].bot_id) == (0.12, 0.10, BOT)
    assert {p.latch_id for p in payloads} == {"global"}
    assert latch.state == LatchState(
        "global", False, Breaker.MANUAL, "resumed by alice: markets calm", 3, T0 + 2, 0
    )
    assert latch_fold(payloads) == latch.state
    rebuilt = RiskLatch.from_events("global", payloads)
    assert (rebuilt.state, rebuilt.version, rebuilt.id) == (latch.state, 3, latch.id)


def test_resume_when_running_is_refused() -> None:
    latch = RiskLatch.open("global")
    with pytest.raises(LatchNotHalted, match="latch global: resume refused, the latch is not halted"):
        latch.resume("alice", "why not", ts_ms=T0)
    assert (latch.version, latch.pending_events) == (0, [])
    latch.trip(Breaker.MACRO, None, None, "vix", ts_ms=T0)
    with pytest.raises(ValueError, match="needs an actor and a reason"):
        latch.resume("", "x", ts_ms=T0)
    latch.resume("bob", "ok", ts_ms=T0 + 1)
    with pytest.raises(LatchNotHalted):
        latch.resume("bob", "again", ts_ms=T0 + 2)
    assert latch.version == 2


def test_latches_are_separate_aggregates() -> None:
    a, b = RiskLatch.open("global"), RiskLatch.open("bot-7")
    assert a.id != b.id
    a.trip(Breaker.CONNECTIVITY, None, None, "ws down", ts_ms=T0)
    [event] = a.collect_payloads()
    with pytest.raises(ValueError, match="latch bot-7: event of latch global"):
        RiskLatch.from_events("bot-7", [event])

"""The order transition table and `apply_order`: legal and illegal transitions, versions, quantities."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from domain.orders import (
    TERMINAL,
    TRANSITIONS,
    BadFilledQty,
    IllegalTransition,
    OrderMismatch,
    OrderState,
    OrderStatus,
    apply_order,
)
from domain.versions import StaleVersion, VersionGap
from schemas.trading import OrderEvent, OrderEventKind
from tests.trading_domain.builders import INTENT, ORDER, history, order_event

K = OrderEventKind
S = OrderStatus

# Written out by hand from the issue, not derived from TRANSITIONS.
LEGAL = {
    (None, K.SUBMITTED): S.SUBMITTED,
    (S.SUBMITTED, K.ACKED): S.ACKED,
    (S.SUBMITTED, K.REJECTED): S.REJECTED,
    (S.SUBMITTED, K.CANCELLED): S.CANCELLED,
    (S.ACKED, K.PARTIALLY_FILLED): S.PARTIALLY_FILLED,
    (S.ACKED, K.FILLED): S.FILLED,
    (S.ACKED, K.CANCELLED): S.CANCELLED,
    (S.PARTIALLY_FILLED, K.PARTIALLY_FILLED): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, K.FILLED): S.FILLED,
    (S.PARTIALLY_FILLED, K.CANCELLED): S.CANCELLED,
}

# The shortest history reaching each status, with its cumulative filled qty (order qty 2).
REACH: dict[OrderStatus | None, list[tuple[OrderEventKind, str]]] = {
    None: [],
    S.SUBMITTED: [(K.SUBMITTED, "0")],
    S.ACKED: [(K.SUBMITTED, "0"), (K.ACKED, "0")],
    S.PARTIALLY_FILLED: [(K.SUBMITTED, "0"), (K.ACKED, "0"), (K.PARTIALLY_FILLED, "0.5")],
    S.FILLED: [(K.SUBMITTED, "0"), (K.ACKED, "0"), (K.FILLED, "2")],
    S.REJECTED: [(K.SUBMITTED, "0"), (K.REJECTED, "0")],
    S.CANCELLED: [(K.SUBMITTED, "0"), (K.CANCELLED, "0")],
}
# The filled qty an event of each kind carries when applied after REACH[status].
NEXT_FILLED = {
    K.SUBMITTED: None,
    K.ACKED: None,
    K.REJECTED: None,
    K.CANCELLED: None,
    K.PARTIALLY_FILLED: "1.5",
    K.FILLED: "2",
}


def fold(events: list[OrderEvent]) -> OrderState | None:
    state: OrderState | None = None
    for e in events:
        state = apply_order(state, e)
    return state


def test_table_is_exactly_the_issue_table() -> None:
    assert dict(TRANSITIONS) == LEGAL
    assert {S.FILLED, S.REJECTED, S.CANCELLED} == TERMINAL
    assert not any(before in TERMINAL for before, _ in TRANSITIONS)


@pytest.mark.parametrize(("before", "kind"), list(itertools.product(REACH, list(K))))
def test_every_pair_of_status_and_kind(before: OrderStatus | None, kind: OrderEventKind) -> None:
    steps = REACH[before]
    state = fold(history(*steps))
    before_filled = steps[-1][1] if steps else "0"
    filled = NEXT_FILLED[kind] or before_filled
    event = order_event(len(steps) + 1, kind, filled, reason="why")
    if (before, kind) in LEGAL:
        after = apply_order(state, event)
        assert after.status is LEGAL[(before, kind)]
        assert after.version == len(steps) + 1
        assert after.filled_qty == Decimal(filled)
        assert after.reason == "why"
        assert after.updated_ms == event.ts_ms
    else:
        with pytest.raises(IllegalTransition) as caught:
            apply_order(state, event)
        before_text = "no order" if before is None else before.value
        assert str(caught.value) == f"order {ORDER}: {kind.value} is not allowed from {before_text}"
        assert (caught.value.status, caught.value.kind) == (before, kind)


def test_a_full_life_keeps_the_fixed_fields_and_times() -> None:
    events = history(
        (K.SUBMITTED, "0"),
        (K.ACKED, "0"),
        (K.PARTIALLY_FILLED, "0.5"),
        (K.PARTIALLY_FILLED, "1.25"),
        (K.FILLED, "2"),
    )
    state = fold(events)
    assert state is not None
    assert (state.status, state.filled_qty, state.version) == (S.FILLED, Decimal(2), 5)
    assert (state.created_ms, state.updated_ms) == (events[0].ts_ms, events[-1].ts_ms)
    assert (state.symbol, state.qty, state.limit_price) == ("BTCUSDT", Decimal(2), 100.0)


def test_stale_and_gapped_versions_are_distinct_errors() -> None:
    state = fold(history((K.SUBMITTED, "0"), (K.ACKED, "0")))
    with pytest.raises(StaleVersion) as stale:
        apply_order(state, order_event(2, K.ACKED))
    assert (stale.value.expected, stale.value.actual) == (3, 2)
    assert str(stale.value) == f"order {ORDER}: version 2 is already applied (expected 3)"
    with pytest.raises(VersionGap) as gap:
        apply_order(state, order_event(5, K.CANCELLED))
    assert (gap.value.expected, gap.value.actual) == (3, 5)
    assert str(gap.value) == f"order {ORDER}: version 5 is ahead of a gap (expected 3)"
    with pytest.raises(VersionGap) as first:
        apply_order(None, order_event(2, K.SUBMITTED))
    assert (first.value.expected, first.value.actual) == (1, 2)


def test_a_stale_duplicate_is_reported_as_stale_even_when_its_kind_is_now_illegal() -> None:
    state = fold(history((K.SUBMITTED, "0"), (K.ACKED, "0"), (K.FILLED, "2")))
    with pytest.raises(StaleVersion):
        apply_order(state, order_event(2, K.ACKED))


@pytest.mark.parametrize(
    ("steps", "kind", "filled", "message"),
    [
        (
            [(K.SUBMITTED, "0"), (K.ACKED, "0"), (K.PARTIALLY_FILLED, "1")],
            K.PARTIALLY_FILLED,
            "0.5",
            "partially_filled must raise filled_qty above 1, got 0.5",
        ),
        (
            [(K.SUBMITTED, "0"), (K.ACKED, "0"), (K.PARTIALLY_FILLED, "1")],
            K.PARTIALLY_FILLED,
            "1",
            "partially_filled must raise filled_qty above 1, got 1",
        ),
        (
            [(K.SUBMITTED, "0"), (K.ACKED, "0")],
            K.PARTIALLY_FILLED,
            "2.5",
            "filled_qty 2.5 exceeds the order qty 2",
        ),
        ([(K.SUBMITTED, "0"), (K.ACKED, "0")], K.FILLED, "1.5", "filled needs filled_qty = qty 2, got 1.5"),
        (
            [(K.SUBMITTED, "0"), (K.ACKED, "0")],
            K.PARTIALLY_FILLED,
            "2",
            "partially_filled up to the full qty 2 must be filled",
        ),
        (
            [(K.SUBMITTED, "0"), (K.ACKED, "0"), (K.PARTIALLY_FILLED, "1")],
            K.CANCELLED,
            "0",
            "cancelled cannot change filled_qty 1 to 0",
        ),
        ([(K.SUBMITTED, "0")], K.ACKED, "0.1", "acked cannot change filled_qty 0 to 0.1"),
        ([], K.SUBMITTED, "0.1", "submitted cannot change filled_qty 0 to 0.1"),
    ],
)
def test_bad_filled_quantities(
    steps: list[tuple[OrderEventKind, str]], kind: OrderEventKind, filled: str, message: str
) -> None:
    state = fold(history(*steps))
    with pytest.raises(BadFilledQty) as caught:
        apply_order(state, order_event(len(steps) + 1, kind, filled))
    assert str(caught.value) == f"order {ORDER}: {message}"


def test_non_positive_qty_is_refused() -> None:
    with pytest.raises(BadFilledQty, match="qty must be positive, got 0"):
        apply_order(None, order_event(1, K.SUBMITTED, qty="0"))


def test_an_event_that_changes_a_fixed_field_is_refused() -> None:
    state = fold(history((K.SUBMITTED, "0")))
    with pytest.raises(OrderMismatch, match="qty 3 differs from 2"):
        apply_order(state, order_event(2, K.ACKED, qty="3"))


def test_another_orders_event_is_refused() -> None:
    state = fold(history((K.SUBMITTED, "0")))
    other = order_event(2, K.ACKED, order_id=INTENT)
    with pytest.raises(OrderMismatch, match=f"applied to order {ORDER}"):
        apply_order(state, other)

"""Property tests: the reducers equal reference folds written separately here; bad versions are refused."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.latch import LatchState, RiskLatch, apply_latch
from domain.order_aggregate import Order
from domain.orders import OrderState, apply_order
from domain.positions import PositionState, apply_fill
from domain.versions import StaleVersion, VersionGap
from schemas.common import Market, OrderType, Side
from schemas.risk import Breaker, BreakerEvent, LatchAction
from schemas.trading import Fill, OrderEvent, OrderEventKind
from tests.trading_domain.builders import BOT, INTENT, ORDER, breaker_event, fill

K = OrderEventKind
FAST = settings(max_examples=150, deadline=None)

# ---- orders ------------------------------------------------------------------------------------------


@st.composite
def order_steps(draw: st.DrawFn) -> tuple[int, list[tuple[OrderEventKind, int]]]:
    """(order qty in lots, [(kind, cumulative filled lots)]) for a valid life, walked without the table."""
    lots = draw(st.integers(1, 20))
    steps: list[tuple[OrderEventKind, int]] = [(K.SUBMITTED, 0)]
    filled = 0
    kind = K.SUBMITTED
    while draw(st.booleans()):
        if kind is K.SUBMITTED:
            kind = draw(st.sampled_from([K.ACKED, K.REJECTED, K.CANCELLED]))
        elif kind in (K.ACKED, K.PARTIALLY_FILLED):
            choice = draw(st.sampled_from(["fill", "cancel"]))
            if choice == "cancel":
                kind = K.CANCELLED
            else:
                filled = draw(st.integers(filled + 1, lots))
                kind = K.FILLED if filled == lots else K.PARTIALLY_FILLED
        else:
            break
        steps.append((kind, filled))
    return lots, steps


def reference_order(lots: int, steps: list[tuple[OrderEventKind, int]]) -> dict[str, object]:
    """What an order's history says, read off directly: last kind, last filled, count."""
    return {
        "status": steps[-1][0].value,
        "filled_lots": steps[-1][1],
        "version": len(steps),
        "qty_lots": lots,
    }


LOT = Decimal("0.001")


def as_events(lots: int, steps: list[tuple[OrderEventKind, int]]) -> list[OrderEvent]:
    return [
        OrderEvent(
            order_id=ORDER,
            version=i,
            kind=kind,
            bot_id=BOT,
            intent_id=INTENT,
            symbol="BTCUSDT",
            market=Market.SPOT,
            side=Side.SELL,
            order_type=OrderType.MARKET,
            qty=lots * LOT,
            filled_qty=filled * LOT,
            ts_ms=1000 + i,
        )
        for i, (kind, filled) in enumerate(steps, start=1)
    ]


def fold_orders(events: list[OrderEvent]) -> OrderState:
    state: OrderState | None = None
    for e in events:
        state = apply_order(state, e)
    assert state is not None
    return state


@FAST
@given(order_steps())
def test_order_reducer_equals_reference(case: tuple[int, list[tuple[OrderEventKind, int]]]) -> None:
    lots, steps = case
    state = fold_orders(as_events(lots, steps))
    assert {
        "status": state.status.value,
        "filled_lots": state.filled_qty / LOT,
        "version": state.version,
        "qty_lots": state.qty / LOT,
    } == reference_order(lots, steps)


@FAST
@given(order_steps())
def test_order_aggregate_emits_what_the_reducer_folds(
    case: tuple[int, list[tuple[OrderEventKind, int]]],
) -> None:
    lots, steps = case
    order = Order.submit(
        order_id=ORDER,
        bot_id=BOT,
        intent_id=INTENT,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.SELL,
        order_type=OrderType.MARKET,
        qty=lots * LOT,
        limit_price=None,
        ts_ms=1001,
    )
    previous = 0
    for i, (kind, filled) in enumerate(steps[1:], start=2):
        if kind is K.ACKED:
            order.ack(ts_ms=1000 + i)
        elif kind is K.REJECTED:
            order.reject("no", ts_ms=1000 + i)
        elif kind is K.CANCELLED:
            order.cancel("no", ts_ms=1000 + i)
        else:
            order.fill((filled - previous) * LOT, ts_ms=1000 + i)
            previous = filled
    payloads = order.collect_payloads()
    assert [p.version for p in payloads] == list(range(1, len(steps) + 1))
    assert [(p.kind, p.filled_qty) for p in payloads] == [(k, f * LOT) for k, f in steps]
    assert fold_orders(payloads) == order.state
    assert Order.from_events(payloads).state == order.state


@FAST
@given(order_steps(), st.data())
def test_order_reducer_refuses_stale_and_gapped_versions(
    case: tuple[int, list[tuple[OrderEventKind, int]]], data: st.DataObject
) -> None:
    lots, steps = case
    events = as_events(lots, steps)
    state = fold_orders(events)
    old = data.draw(st.sampled_from(events))
    with pytest.raises(StaleVersion) as stale:
        apply_order(state, old)
    assert (stale.value.expected, stale.value.actual) == (state.version + 1, old.version)
    ahead = data.draw(st.integers(state.version + 2, state.version + 50))
    with pytest.raises(VersionGap) as gap:
        apply_order(state, old.model_copy(update={"version": ahead}))
    assert (gap.value.expected, gap.value.actual) == (state.version + 1, ahead)


# ---- latch -------------------------------------------------------------------------------------------

actions = st.lists(st.sampled_from([LatchAction.TRIP, LatchAction.RESUME]), max_size=30)


def valid_actions(raw: list[LatchAction]) -> list[LatchAction]:
    """Drop each resume that would find the latch running."""
    kept: list[LatchAction] = []
    halted = False
    for a in raw:
        if a is LatchAction.RESUME and not halted:
            continue
        kept.append(a)
        halted = a is LatchAction.TRIP
    return kept


def fold_latch(events: list[BreakerEvent]) -> LatchState | None:
    state: LatchState | None = None
    for e in events:
        state = apply_latch(state, e)
    return state


@FAST
@given(actions)
def test_latch_reducer_and_aggregate_equal_reference(raw: list[LatchAction]) -> None:
    kept = valid_actions(raw)
    latch = RiskLatch.open("global")
    for i, a in enumerate(kept, start=1):
        if a is LatchAction.TRIP:
            latch.trip(Breaker.DRAWDOWN, 0.2, 0.1, f"trip {i}", ts_ms=1000 + i)
        else:
            latch.resume("ops", f"resume {i}", ts_ms=1000 + i)
    payloads = latch.collect_payloads()
    state = fold_latch(payloads)
    if not kept:
        assert state is None
        assert latch.state.version == 0
        return
    assert state == latch.state
    trips_since_resume = 0
    for a in kept:
        trips_since_resume = trips_since_resume + 1 if a is LatchAction.TRIP else 0
    assert state is not None
    assert (state.halted, state.version, state.trips, state.changed_ms) == (
        kept[-1] is LatchAction.TRIP,
        len(kept),
        trips_since_resume,
        1000 + len(kept),
    )
    assert RiskLatch.from_events("global", payloads).state == state


@FAST
@given(actions.filter(lambda r: len(valid_actions(r)) > 0), st.data())
def test_latch_reducer_refuses_stale_and_gapped_versions(raw: list[LatchAction], data: st.DataObject) -> None:
    events = [breaker_event(i, a) for i, a in enumerate(valid_actions(raw), start=1)]
    state = fold_latch(events)
    assert state is not None
    old = data.draw(st.sampled_from(events))
    with pytest.raises(StaleVersion):
        apply_latch(state, old)
    with pytest.raises(VersionGap):
        apply_latch(state, breaker_event(state.version + data.draw(st.integers(2, 9)), LatchAction.TRIP))


# ---- positions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FillCase:
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str


fill_cases = st.builds(
    FillCase,
    side=st.sampled_from([Side.BUY, Side.SELL]),
    qty=st.integers(2, 5000).map(lambda n: n * Decimal("0.001")),
    price=st.integers(1, 10_000_000).map(lambda n: n * Decimal("0.01")),
    fee=st.integers(0, 1000).map(lambda n: n * Decimal("0.000001")),
    fee_asset=st.sampled_from(["USDT", "BTC"]),
)


class LotReference:
    """Average cost as a list of open lots in exact fractions: a reduction closes every lot pro rata."""

    def __init__(self) -> None:
        self.lots: list[tuple[Fraction, Fraction]] = []  # (signed qty, price)
        self.realized = Fraction(0)
        self.fees = Fraction(0)
        self.cash = Fraction(0)  # quote paid out (-) and received (+) for the position's quantity

    @property
    def qty(self) -> Fraction:
        return sum((q for q, _ in self.lots), Fraction(0))

    @property
    def avg(self) -> Fraction:
        total = self.qty
        return Fraction(0) if total == 0 else sum((q * p for q, p in self.lots), Fraction(0)) / total

    def take(self, c: FillCase) -> None:
        price, qty, fee = Fraction(c.price), Fraction(c.qty), Fraction(c.fee)
        if c.fee_asset == "BTC":
            moved = qty - fee if c.side is Side.BUY else qty + fee
            self.fees += fee * price
        else:
            moved = qty
            self.fees += fee
        delta = moved if c.side is Side.BUY else -moved
        self.cash -= delta * price
        held = self.qty
        if held == 0 or (held > 0) == (delta > 0):
            self.lots.append((delta, price))
            return
        closing = min(abs(held), abs(delta))
        share = closing / abs(held)
        sign = 1 if held > 0 else -1
        for q, p in self.lots:
            self.realized += (price - p) * abs(q) * share * sign
        self.lots = [(q * (1 - share), p) for q, p in self.lots if q * (1 - share) != 0]
        rest = delta + held
        if rest != 0 and (rest > 0) != (held > 0):
            self.lots = [(rest, price)]


def to_fill(version: int, c: FillCase) -> Fill:
    return fill(version, c.side, str(c.qty), float(c.price), str(c.fee), c.fee_asset)


@settings(max_examples=200, deadline=None)
@given(st.lists(fill_cases, min_size=1, max_size=25))
def test_positions_equal_an_exact_lot_list_reference(cases: list[FillCase]) -> None:
    ref = LotReference()
    state: PositionState | None = None
    for i, c in enumerate(cases, start=1):
        ref.take(c)
        state = apply_fill(state, to_fill(i, c))
        # quantities and fees are on coarse grids: exact; prices and pnl carry 1e-8 rounding per fill
        assert Fraction(state.qty) == ref.qty
        assert Fraction(state.fees) == ref.fees
        assert abs(Fraction(state.avg_entry_price) - ref.avg) <= Fraction(i, 10**8)
        assert abs(Fraction(state.realized_pnl) - ref.realized) <= Fraction(1, 10**4)
        assert state.version == i
    assert state is not None
    # cash-flow identity at the last price: realized + unrealized = cash + position value
    mark = Fraction(cases[-1].price)
    marked = Fraction(state.realized_pnl) + (mark - Fraction(state.avg_entry_price)) * Fraction(state.qty)
    assert abs(marked - (ref.cash + ref.qty * mark)) <= Fraction(1, 10**3)


@FAST
@given(st.lists(fill_cases, min_size=1, max_size=10), st.data())
def test_positions_refuse_stale_and_gapped_versions(cases: list[FillCase], data: st.DataObject) -> None:
    fills = [to_fill(i, c) for i, c in enumerate(cases, start=1)]
    state: PositionState | None = None
    for f in fills:
        state = apply_fill(state, f)
    assert state is not None
    with pytest.raises(StaleVersion):
        apply_fill(state, data.draw(st.sampled_from(fills)))
    with pytest.raises(VersionGap):
        apply_fill(state, to_fill(state.version + data.draw(st.integers(2, 9)), cases[0]))

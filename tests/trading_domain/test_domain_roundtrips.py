"""Roundtrips, equity points and performance folded from fills: worked examples, and properties that
tie them to the average-cost positions they are read off (sums exact, counts equal to zero crossings)."""

from __future__ import annotations

import itertools
import statistics
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.performance import BASE_CAPITAL, EquityPoint, Ledger, apply_ledger
from domain.positions import PositionState, apply_fill
from domain.roundtrips import Roundtrip, TripBook, TripSide, apply_trip
from domain.versions import StaleVersion, VersionGap
from schemas.common import Side
from schemas.trading import Fill
from tests.trading_domain.builders import fill

FAST = settings(max_examples=150, deadline=None)


def trips_of(fills: list[Fill]) -> tuple[TripBook | None, list[Roundtrip]]:
    book: TripBook | None = None
    closed = []
    for f in fills:
        book, trip = apply_trip(book, f)
        if trip:
            closed.append(trip)
    return book, closed


def test_a_long_roundtrip_with_a_partial_close() -> None:
    book, trips = trips_of(
        [
            fill(1, Side.BUY, "2", 100.0, "0.2"),
            fill(2, Side.SELL, "1", 110.0, "0.1"),
            fill(3, Side.SELL, "1", 120.0, "0.1"),
        ]
    )
    assert len(trips) == 1
    trip = trips[0]
    assert (trip.number, trip.side, trip.entry_price, trip.exit_price, trip.qty) == (
        1,
        TripSide.LONG,
        Decimal(100),
        Decimal(115),
        Decimal(2),
    )
    assert (trip.pnl, trip.fees, trip.net_pnl) == (Decimal(30), Decimal("0.4"), Decimal("29.6"))
    assert (trip.opened_ms, trip.closed_ms, trip.close_version) == (
        fill(1, Side.BUY, "1", 1).ts_ms,
        fill(3, Side.BUY, "1", 1).ts_ms,
        3,
    )
    assert book is not None
    assert (book.qty, book.trips, book.trip_side) == (0, 1, None)


def test_a_flip_closes_the_long_and_opens_a_short_with_the_rest() -> None:
    _, trips = trips_of(
        [
            fill(1, Side.BUY, "1", 100.0),
            fill(2, Side.SELL, "3", 90.0, "0.3"),
            fill(3, Side.BUY, "2", 80.0),
        ]
    )
    long, short = trips
    assert (long.side, long.pnl, long.fees, long.qty, long.exit_price) == (
        TripSide.LONG,
        Decimal(-10),
        Decimal("0.3"),
        Decimal(1),
        Decimal(90),
    )
    assert (
        short.number,
        short.side,
        short.entry_price,
        short.exit_price,
        short.qty,
        short.pnl,
        short.fees,
    ) == (
        2,
        TripSide.SHORT,
        Decimal(90),
        Decimal(80),
        Decimal(2),
        Decimal(20),
        Decimal(0),
    )
    assert short.opened_ms == long.closed_ms


def test_the_ledger_curve_drawdown_win_rate_and_sharpe() -> None:
    fills = [
        fill(1, Side.BUY, "1", 100.0, "1"),  # opens: no point
        fill(2, Side.SELL, "1", 150.0, "1"),  # +50 gross, -2 fees: equity 10048
        fill(3, Side.BUY, "1", 100.0),
        fill(4, Side.SELL, "1", 90.0),  # -10: equity 10038
    ]
    ledger: Ledger | None = None
    points: list[EquityPoint] = []
    for f in fills:
        ledger, point = apply_ledger(ledger, f)
        if point:
            points.append(point)
    assert [p.equity for p in points] == [Decimal(10048), Decimal(10038)]
    assert [p.point for p in points] == [1, 2]
    assert points[1].peak_equity == Decimal(10048)
    assert points[1].drawdown == (Decimal(10) / Decimal(10048)).quantize(Decimal("1e-8"))
    assert ledger is not None
    perf = ledger.performance
    assert perf is not None
    assert (perf.trips, perf.wins, perf.win_rate) == (2, 1, Decimal("0.5"))
    assert perf.total_return == Decimal("0.0038")
    assert perf.max_drawdown == points[1].drawdown
    returns = [0.0048, -0.001]
    assert perf.sharpe is not None
    assert float(perf.sharpe) == pytest.approx(statistics.mean(returns) / statistics.stdev(returns), rel=1e-7)


def test_a_stale_or_gapped_fill_is_refused() -> None:
    book, _ = trips_of([fill(1, Side.BUY, "1", 100.0)])
    with pytest.raises(StaleVersion):
        apply_trip(book, fill(1, Side.SELL, "1", 100.0))
    with pytest.raises(VersionGap):
        apply_trip(book, fill(3, Side.SELL, "1", 100.0))


@st.composite
def walks(draw: st.DrawFn) -> list[Fill]:
    """A walk of fills on two symbols (gapless versions each), quote or base fees, some exact closes."""
    out = []
    versions = {"BTCUSDT": 0, "ETHUSDT": 0}
    for _ in range(draw(st.integers(1, 40))):
        symbol = draw(st.sampled_from(sorted(versions)))
        versions[symbol] += 1
        side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        qty = draw(st.sampled_from(["0.5", "1", "1.5", "2", "3"]))
        price = draw(st.integers(80, 120)) + draw(st.sampled_from([0.0, 0.25, 0.5]))
        fee = draw(st.sampled_from(["0", "0.01", "0.1"]))
        out.append(fill(versions[symbol], side, qty, price, fee, symbol=symbol))
    return out


def crossings(positions: list[PositionState]) -> int:
    """How many times a position went back to zero or through it: the closed roundtrips, counted apart."""
    count = 0
    for before, after in itertools.pairwise(positions):
        if before.qty != 0 and (after.qty == 0 or (after.qty > 0) != (before.qty > 0)):
            count += 1
    return count


@FAST
@given(walks())
def test_roundtrips_add_up_to_the_position(fills: list[Fill]) -> None:
    for symbol in ("BTCUSDT", "ETHUSDT"):
        mine = [f for f in fills if f.symbol == symbol]
        if not mine:
            continue
        book, trips = trips_of(mine)
        positions: list[PositionState] = []
        for f in mine:
            positions.append(apply_fill(positions[-1] if positions else None, f))
        final = positions[-1]
        assert book is not None
        assert book.position() == final
        assert [t.number for t in trips] == list(range(1, len(trips) + 1))
        assert len(trips) == crossings(positions)
        open_pnl = book.realized_pnl - book.trip_base_pnl if book.trip_side else Decimal(0)
        open_fees = book.fees - book.trip_base_fees if book.trip_side else Decimal(0)
        assert sum((t.pnl for t in trips), Decimal(0)) + open_pnl == final.realized_pnl
        assert sum((t.fees for t in trips), Decimal(0)) + open_fees == final.fees
        for t in trips:
            assert t.qty > 0
            assert t.opened_ms <= t.closed_ms
            assert t.net_pnl == t.pnl - t.fees
        assert (book.trip_side is None) == (final.qty == 0)


@FAST
@given(walks())
def test_the_ledger_equals_its_books_and_roundtrips(fills: list[Fill]) -> None:
    ledger: Ledger | None = None
    points: list[EquityPoint] = []
    positions: dict[str, PositionState] = {}
    for f in fills:
        before = positions.get(f.symbol)
        after = positions[f.symbol] = apply_fill(before, f)
        ledger, point = apply_ledger(ledger, f)
        reduced = (
            before is not None
            and before.qty != 0
            and abs(after.qty - before.qty) > 0
            and (after.qty == 0 or (after.qty > 0) != (before.qty > 0) or abs(after.qty) < abs(before.qty))
        )
        assert (point is not None) == reduced
        if point:
            points.append(point)
            net = sum((p.realized_pnl - p.fees for p in positions.values()), Decimal(0))
            assert point.equity == BASE_CAPITAL + net
    assert ledger is not None
    trips = [
        t for symbol in ("BTCUSDT", "ETHUSDT") for t in trips_of([f for f in fills if f.symbol == symbol])[1]
    ]
    perf = ledger.performance
    if not points:
        assert perf is None
        assert not trips
        return
    assert perf is not None
    assert [p.point for p in points] == list(range(1, len(points) + 1))
    assert perf.points == len(points)
    assert perf.equity == points[-1].equity
    assert perf.max_drawdown == max(p.drawdown for p in points)
    assert all(p.peak_equity >= max(BASE_CAPITAL, p.equity) for p in points)
    assert perf.trips == len(trips)
    assert perf.wins == sum(1 for t in trips if t.net_pnl > 0)
    returns = [float(t.net_pnl / BASE_CAPITAL) for t in trips]
    if len(returns) >= 2 and statistics.stdev(returns) > 1e-9:
        assert perf.sharpe is not None
        assert float(perf.sharpe) == pytest.approx(
            statistics.mean(returns) / statistics.stdev(returns), rel=1e-5, abs=1e-7
        )
    elif len(returns) < 2:
        assert perf.sharpe is None

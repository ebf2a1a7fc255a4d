"""The risk service's pure parts: drawdown on hand-computed equity paths, the peak window, staleness by
clock, and the equity book over fills and kline marks."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from domain.versions import VersionGap
from schemas.common import Side
from schemas.risk import Breaker
from services.risk.breakers import PeakWindow, check_drawdown, check_staleness, drawdown
from services.risk.config import initial_capital
from services.risk.equity import EquityBook
from settings.errors import GordonError
from tests.services.risk_events import fill, kline

BOT_A = UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60")
BOT_B = UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f61")


def test_drawdown_fraction() -> None:
    assert drawdown(Decimal("9500"), Decimal("10000")) == pytest.approx(0.05)
    assert drawdown(Decimal("10100"), Decimal("10000")) == 0.0
    assert drawdown(Decimal("5"), Decimal("0")) == 0.0


def test_drawdown_breach_is_strictly_beyond_the_threshold() -> None:
    assert check_drawdown(Decimal("9500"), Decimal("10000"), 0.05) is None
    breach = check_drawdown(Decimal("9499"), Decimal("10000"), 0.05)
    assert breach is not None
    assert breach.breaker is Breaker.DRAWDOWN
    assert breach.value == pytest.approx(0.0501)
    assert breach.threshold == 0.05
    assert "5.01% below its peak 10000.00" in breach.message
    assert check_drawdown(Decimal("1"), None, 0.05) is None


def test_equity_path_by_hand_trips_only_past_five_percent() -> None:
    # 10,000 USDT; buy 1 BTC at 10,000 paying 10: equity 9,990 (peak stays 10,000).
    book = EquityBook(Decimal("10000"))
    peaks = PeakWindow(86_400_000)
    peaks.add(0, book.total())
    assert book.apply(fill(BOT_A, 1, Side.BUY, "1", 10_000.0, "10", 1_000))
    peaks.add(1_000, book.total())
    assert book.total() == Decimal("9990")
    # Marked at 9,520: 9,990 - 480 = 9,510, 4.9% below the peak: no breach.
    book.mark(kline(9_520.0, 60_000))
    peaks.add(60_000, book.total())
    assert book.total() == Decimal("9510")
    assert check_drawdown(book.total(), peaks.peak(), 0.05) is None
    # Marked at 9,500: 9,490, 5.1% below: breach.
    book.mark(kline(9_500.0, 120_000))
    peaks.add(120_000, book.total())
    breach = check_drawdown(book.total(), peaks.peak(), 0.05)
    assert breach is not None
    assert breach.value == pytest.approx(0.051)


def test_a_new_peak_moves_the_reference() -> None:
    # Equity rises to 10,990 at an 11,000 mark. A 10,500 mark (10,490: 4.55% below the new peak) is fine;
    # a 10,430 mark (10,420: 5.19% below 10,990, though above the first peak of 10,000) breaches.
    book = EquityBook(Decimal("10000"))
    peaks = PeakWindow(86_400_000)
    peaks.add(0, book.total())
    book.apply(fill(BOT_A, 1, Side.BUY, "1", 10_000.0, "10", 1_000))
    book.mark(kline(11_000.0, 60_000))
    peaks.add(60_000, book.total())
    assert peaks.peak() == Decimal("10990")
    book.mark(kline(10_500.0, 120_000))
    peaks.add(120_000, book.total())
    assert check_drawdown(book.total(), peaks.peak(), 0.05) is None
    book.mark(kline(10_430.0, 180_000))
    peaks.add(180_000, book.total())
    breach = check_drawdown(book.total(), peaks.peak(), 0.05)
    assert breach is not None
    assert breach.value == pytest.approx((10_990 - 10_420) / 10_990)


def test_peak_window_forgets_peaks_older_than_the_window() -> None:
    peaks = PeakWindow(15)
    peaks.add(0, Decimal(100))
    peaks.add(10, Decimal(120))
    peaks.add(20, Decimal(110))
    assert peaks.peak() == Decimal(120)
    peaks.add(30, Decimal(105))
    assert peaks.peak() == Decimal(110)
    peaks.add(100, Decimal(90))
    assert peaks.peak() == Decimal(90)


def test_peak_restart_after_a_resume() -> None:
    peaks = PeakWindow(1_000)
    peaks.add(0, Decimal(100))
    peaks.add(10, Decimal(80))
    peaks.restart(10, Decimal(80))
    assert peaks.peak() == Decimal(80)


def test_staleness_by_the_clock() -> None:
    assert check_staleness(1_000, 181_000, 180_000) is None
    breach = check_staleness(1_000, 181_001, 180_000)
    assert breach is not None
    assert breach.breaker is Breaker.CONNECTIVITY
    assert (breach.value, breach.threshold) == (180_001.0, 180_000.0)


def test_book_skips_redelivered_fills_and_refuses_gaps() -> None:
    book = EquityBook(Decimal("10000"))
    first = fill(BOT_A, 1, Side.BUY, "1", 10_000.0, "10", 1_000)
    assert book.apply(first)
    assert not book.apply(first)
    assert book.total() == Decimal("9990")
    with pytest.raises(VersionGap):
        book.apply(fill(BOT_A, 3, Side.SELL, "1", 10_000.0, "10", 2_000))


def test_per_bot_pnl_and_total() -> None:
    book = EquityBook(Decimal("10000"))
    book.apply(fill(BOT_A, 1, Side.BUY, "1", 10_000.0, "10", 1_000))
    book.apply(fill(BOT_A, 2, Side.SELL, "1", 10_200.0, "10", 2_000))  # +200 realized, 20 fees
    book.apply(fill(BOT_B, 1, Side.BUY, "0.5", 10_200.0, "5", 2_000))
    book.mark(kline(10_000.0, 60_000))  # BOT_B: 0.5 x -200 = -100, fee 5
    assert book.per_bot() == {BOT_A: Decimal("180"), BOT_B: Decimal("-105")}
    assert book.total() == Decimal("10075")


def test_an_older_kline_does_not_move_the_mark() -> None:
    book = EquityBook(Decimal("10000"))
    book.apply(fill(BOT_A, 1, Side.BUY, "1", 10_000.0, "0", 1_000))
    assert book.mark(kline(9_000.0, 120_000))
    assert not book.mark(kline(11_000.0, 60_000))
    assert not book.mark(kline(9_000.0, 120_000))
    assert book.total() == Decimal("9000")


def test_initial_capital_setting() -> None:
    assert initial_capital({}) == Decimal("10000")
    assert initial_capital({"GORDON_RISK_INITIAL_CAPITAL": "2500.5"}) == Decimal("2500.5")
    with pytest.raises(GordonError, match="expected a number"):
        initial_capital({"GORDON_RISK_INITIAL_CAPITAL": "lots"})
    with pytest.raises(GordonError, match="positive"):
        initial_capital({"GORDON_RISK_INITIAL_CAPITAL": "-1"})

"""The risk service: drawdown from fills and kline marks, connectivity from kline arrival times.

`faststream run services.risk:app` (GORDON_NATS_URL, GORDON_DATABASE_URL set) consumes the
durables risk-fills, risk-klines and risk-requests (operator resume and flatten from the manager API) as
gordon_risk. Thresholds come from trading.risk_config; only the enabled drawdown and connectivity breakers
are evaluated (vpin, macro and correlation are declared there but have no evaluation yet). A breach trips
the halt latch (see services/risk/halt.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from faststream.nats import NatsBroker

from consumers.subscribers import risk_fills, risk_klines, risk_requests
from domain.versions import VersionGap
from registry.subject import Service
from schemas.market import Kline
from schemas.risk import Breaker, BreakerEvent, OperatorRequest
from schemas.trading import Fill
from services.risk import halt
from services.risk.breakers import EVALUATED, Breach, PeakWindow, check_drawdown, check_staleness
from services.risk.config import RiskConfig, initial_capital, load_config
from services.risk.equity import EquityBook, fills_after, stored_fills
from services.risk.requests import Outcome, carry_out
from services.runtime import KLINE_SILENCE_S, ServiceRuntime, service_app, wall_clock_ms
from services.service_app import ServiceApp

log = logging.getLogger("gordon.risk")

DEFAULT_PEAK_WINDOW_MS = 86_400_000


@dataclass
class RiskService:
    """The app and its state: the equity book, the peak window, the last kline time, the latch seen.

    Equity samples are stamped by the injected clock when seen (stored fills at restart by their own time),
    so the drawdown window and the staleness window run on one clock.
    """

    app: ServiceApp
    broker: NatsBroker
    runtime: ServiceRuntime
    book: EquityBook
    check_interval_s: float = 1.0
    config: RiskConfig = field(default_factory=lambda: RiskConfig({}))
    peaks: PeakWindow = field(default_factory=lambda: PeakWindow(DEFAULT_PEAK_WINDOW_MS))
    last_kline_ms: int = 0
    trips: list[BreakerEvent] = field(default_factory=list)
    _latch_version: int = -1
    _view: halt.LatchView | None = None
    _seen_resume: int = 0
    _ticker: asyncio.Task[None] | None = None
    _warned: set[Breaker] = field(default_factory=set)

    @property
    def clock(self) -> Callable[[], int]:
        return self.runtime.clock

    async def prepare(self) -> None:
        """Read the thresholds, the latch and the stored fills before any delivery (the pool is open)."""
        pool = self.runtime.pool
        await self.reload_config()
        view = await self._latch()
        self._seen_resume = view.resumed_version
        counting = False  # the peak counts from the last resume (or the first fill)
        for fill in await stored_fills(pool):
            if not counting and fill.ts_ms >= view.resumed_ms:
                counting = True
                self.peaks.add(view.resumed_ms or fill.ts_ms, self.book.total())
            self.book.apply(fill)
            if counting:
                self.peaks.add(fill.ts_ms, self.book.total())
        self.last_kline_ms = self.clock()
        self.peaks.add(self.last_kline_ms, self.book.total())

    async def reload_config(self) -> None:
        """Re-read trading.risk_config (thresholds are tunable at run time)."""
        config = await load_config(self.runtime.pool)
        ignored = [b for b, row in config.rows.items() if row.enabled and b not in EVALUATED]
        if ignored and not self._warned.issuperset(ignored):
            names = ", ".join(b.value for b in ignored)
            log.warning("risk: breakers %s are enabled in risk_config but not evaluated", names)
            self._warned.update(ignored)
        drawdown = config.rows.get(Breaker.DRAWDOWN)
        if drawdown is not None and drawdown.window_ms != self.peaks.window_ms:
            self.peaks.window_ms = drawdown.window_ms
        self.config = config

    async def on_fill(self, fill: Fill) -> None:
        """Fold the fill (a redelivery is skipped) and evaluate the drawdown."""
        try:
            applied = self.book.apply(fill)
        except VersionGap:
            await self._fill_gap(fill)
            applied = self.book.apply(fill)
        if applied:
            self.peaks.add(self.clock(), self.book.total())
        await self.check_drawdown()

    async def _fill_gap(self, fill: Fill) -> None:
        # The executor commits a fill before publishing it: a missed predecessor is in its table.
        known = self.book.version_of(fill.bot_id, fill.symbol)
        for stored in await fills_after(self.runtime.pool, fill.bot_id, fill.symbol, known):
            if stored.version >= fill.version:
                break
            self.book.apply(stored)

    async def on_kline(self, kline: Kline) -> None:
        """Note the arrival (connectivity), mark open positions at the close, evaluate the drawdown."""
        self.last_kline_ms = max(self.last_kline_ms, self.clock())
        if self.book.mark(kline):
            self.peaks.add(self.clock(), self.book.total())
        await self.check_drawdown()

    async def check_drawdown(self) -> BreakerEvent | None:
        """Trip when equity is more than the threshold below its peak in the window."""
        row = self.config.enabled(Breaker.DRAWDOWN)
        if row is None or check_drawdown(self.book.total(), self.peaks.peak(), row.threshold) is None:
            return None
        await self._latch()  # a resume since the last look restarts the peak
        breach = check_drawdown(self.book.total(), self.peaks.peak(), row.threshold)
        return await self._trip(breach) if breach else None

    async def check_connectivity(self) -> BreakerEvent | None:
        """Trip when no kline arrived for the window by the clock."""
        row = self.config.enabled(Breaker.CONNECTIVITY)
        if row is None:
            return None
        breach = check_staleness(self.last_kline_ms, self.clock(), row.window_ms)
        return await self._trip(breach) if breach else None

    async def _latch(self) -> halt.LatchView:
        """The latch as last written, re-read only when its head version moved."""
        pool = self.runtime.pool
        version = await halt.head_version(pool)
        if self._view is None or version != self._latch_version:
            self._view = await halt.read_view(pool)
            self._latch_version = version
            if self._view.resumed_version > self._seen_resume:
                self._seen_resume = self._view.resumed_version
                self.peaks.restart(self.clock(), self.book.total())
        return self._view

    async def _trip(self, breach: Breach) -> BreakerEvent | None:
        view = await self._latch()
        if breach.breaker in view.tripped:
            return None
        event = await halt.trip(self.runtime.pool, self.runtime.outbox, breach, ts_ms=self.clock())
        self._view = None
        if event is not None:
            self.trips.append(event)
            log.warning("risk: %s tripped the latch: %s", breach.breaker.value, breach.message)
        return event

    async def on_request(self, request: OperatorRequest) -> Outcome:
        """An operator's resume or flatten from the manager API (see services/risk/requests.py)."""
        outcome = await carry_out(self.runtime.pool, self.runtime.outbox, request, ts_ms=self.clock())
        self._view = None  # the latch may have changed: re-read it on the next look
        return outcome

    async def _on_request(self, request: OperatorRequest) -> None:
        await self.on_request(request)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval_s)
            try:
                await self.reload_config()
                await self.check_connectivity()
            except Exception:
                log.exception("risk: periodic check failed")

    async def start_ticker(self) -> None:
        self._ticker = asyncio.create_task(self._tick(), name="risk-staleness")

    async def stop_ticker(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker


def build(
    *,
    nats_url: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], int] = wall_clock_ms,
    capital: Decimal | None = None,
    check_interval_s: float = 1.0,
) -> RiskService:
    """The risk service; URLs default to the environment, capital to GORDON_RISK_INITIAL_CAPITAL."""
    app, broker, runtime = service_app(
        Service.RISK,
        nats_url=nats_url,
        database_url=database_url,
        clock=clock,
        max_silence_s=KLINE_SILENCE_S,
    )
    book = EquityBook(capital if capital is not None else initial_capital())
    service = RiskService(app, broker, runtime, book, check_interval_s)
    risk_fills(broker)(service.on_fill)
    risk_klines(broker)(service.on_kline)
    risk_requests(broker)(service._on_request)
    app.on_startup(service.prepare)
    app.after_startup(service.start_ticker)
    app.on_shutdown(service.stop_ticker)
    return service

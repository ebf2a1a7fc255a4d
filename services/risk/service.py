"""The risk service: five breakers evaluated on a 30 Hz tick, and the halt latch they trip.

`faststream run services.risk:app` (GORDON_NATS_URL, GORDON_DATABASE_URL set) consumes the
durables risk-fills, risk-klines and risk-requests (operator resume and flatten from the manager API) as
gordon_risk. Each enabled breaker of trading.risk_config is evaluated on every tick with its own threshold
and window: drawdown (equity from fills, marked at kline closes), connectivity (kline arrival by the clock),
correlation (the bots' symbols' 1m returns), VPIN (market_data.v_metrics_reader) and macro
(market_data.v_macro_reader). A breach trips the halt latch (see services/risk/halt.py).

A tick is in-memory work only: risk_config, the bots' symbols and the latch head are re-read every
`REFRESH_MS`, the VPIN and macro views at their own slower cadences (vpin.READ_EVERY_MS,
macro.READ_EVERY_MS) or as soon as their window changes, all by the injected clock; the correlation is
recomputed only when a 1m close arrived. A breach of a breaker already tripped costs no query.

The VPIN and macro windows end at market time, the close of the newest closed kline risk consumed (the
clock until one arrives): they judge market data by the market's own time, as the correlation window
does, so a replay or a feed running behind the wall clock (the demo's) is judged as it happened. Reads
are still timed by the clock, and connectivity and drawdown run on the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

import asyncpg
from faststream.nats import NatsBroker

from consumers.subscribers import risk_fills, risk_klines, risk_requests
from domain.versions import VersionGap
from registry.subject import Service
from schemas.common import Timeframe
from schemas.market import Kline
from schemas.risk import Breaker, BreakerEvent, OperatorRequest
from schemas.trading import Fill
from services.risk import halt, macro, vpin
from services.risk.breakers import Breach, PeakWindow, Reading, check_drawdown, check_staleness
from services.risk.cadence import Cadence
from services.risk.config import RiskConfig, initial_capital, load_config, traded_symbols
from services.risk.correlation import CloseWindows, SeriesKey, check_correlation
from services.risk.equity import EquityBook, fills_after, stored_fills
from services.risk.requests import Outcome, carry_out
from services.runtime import KLINE_SILENCE_S, ServiceRuntime, service_app, wall_clock_ms
from services.service_app import ServiceApp

log = logging.getLogger("gordon.risk")

T = TypeVar("T")

DEFAULT_PEAK_WINDOW_MS = 86_400_000
DEFAULT_CORRELATION_WINDOW_MS = 86_400_000

TICK_HZ = 30
TICK_S = 1 / TICK_HZ
"""The breakers are evaluated this often: a breach is acted on within a frame, not a second."""

REFRESH_MS = 1_000
"""risk_config (runtime-tunable), the bots' symbols and the latch head are re-read this often."""


@dataclass
class RiskService:
    """The app and its state: the equity book, the peak window, the last kline time, the 1m closes, the
    VPIN and macro values last read, the latch seen.

    Equity samples are stamped by the injected clock when seen (stored fills at restart by their own time),
    so the drawdown window and the staleness window run on one clock.
    """

    app: ServiceApp
    broker: NatsBroker
    runtime: ServiceRuntime
    book: EquityBook
    check_interval_s: float = TICK_S
    config: RiskConfig = field(default_factory=lambda: RiskConfig({}))
    peaks: PeakWindow = field(default_factory=lambda: PeakWindow(DEFAULT_PEAK_WINDOW_MS))
    last_kline_ms: int = 0
    market_ms: int = 0
    """The close time of the newest closed kline consumed: where the VPIN and macro windows end."""
    symbols: frozenset[SeriesKey] = frozenset()
    closes: CloseWindows = field(default_factory=lambda: CloseWindows(DEFAULT_CORRELATION_WINDOW_MS))
    vpin_latest: dict[str, Reading] = field(default_factory=dict)
    macro_series: dict[str, list[Reading]] = field(default_factory=dict)
    trips: list[BreakerEvent] = field(default_factory=list)
    cadence: Cadence = field(default_factory=Cadence)
    _latch_version: int = -1
    _view: halt.LatchView | None = None
    _seen_resume: int = 0
    _ticker: asyncio.Task[None] | None = None
    _correlation: tuple[object, Breach | None] | None = None
    _failing: set[str] = field(default_factory=set)

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
        """Re-read trading.risk_config (thresholds and windows are tunable at run time) and the bots'
        symbols; a VPIN or macro window that changed is read again on the next tick."""
        config = await load_config(self.runtime.pool)
        self.symbols = await traded_symbols(self.runtime.pool)
        drawdown = config.rows.get(Breaker.DRAWDOWN)
        if drawdown is not None and drawdown.window_ms != self.peaks.window_ms:
            self.peaks.window_ms = drawdown.window_ms
        correlation = config.rows.get(Breaker.CORRELATION)
        if correlation is not None:
            self.closes.resize(correlation.window_ms)
        for breaker in (Breaker.VPIN, Breaker.MACRO):
            old, new = self.config.rows.get(breaker), config.rows.get(breaker)
            if old is None or new is None or old.window_ms != new.window_ms:
                self.cadence.forget(breaker.value)
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
        """Note the arrival (connectivity), keep a 1m close (correlation), mark open positions at the close,
        evaluate the drawdown."""
        self.last_kline_ms = max(self.last_kline_ms, self.clock())
        if kline.closed:
            self.market_ms = max(self.market_ms, kline.close_time_ms)
        if kline.tf is Timeframe.M1:
            self.closes.add((kline.market, kline.symbol), kline.close_time_ms, kline.close)
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

    async def tick(self) -> list[BreakerEvent]:
        """Evaluate every enabled breaker once (the 30 Hz loop calls this; tests call it with their clock).

        The reads due by the clock come first; then a breach of a breaker the latch has not seen tripped
        re-reads the latch (a resume since restarts the drawdown peak) and trips it. The trips made.
        """
        now = self.clock()
        if self.cadence.due("config", now, REFRESH_MS):
            await self.reload_config()
            await self._latch()
        market = self.market_ms or now
        await self._read_views(now, market)
        if all(self._known_tripped(b.breaker) for b in self.breaches(now, market)):
            return []
        await self._latch()
        events = []
        for breach in self.breaches(now, market):
            event = await self._trip(breach)
            if event is not None:
                events.append(event)
        return events

    def breaches(self, now_ms: int, market_ms: int) -> list[Breach]:
        """Every enabled breaker's breach at `now_ms` (VPIN and macro at `market_ms`), from memory."""
        found: list[Breach | None] = []
        rows = self.config
        if row := rows.enabled(Breaker.DRAWDOWN):
            found.append(check_drawdown(self.book.total(), self.peaks.peak(), row.threshold))
        if row := rows.enabled(Breaker.CONNECTIVITY):
            found.append(check_staleness(self.last_kline_ms, now_ms, row.window_ms))
        if row := rows.enabled(Breaker.CORRELATION):
            key = (self.closes.version, self.symbols, row.threshold)
            if self._correlation is None or self._correlation[0] != key:
                self._correlation = (key, check_correlation(self.closes, self.symbols, row.threshold))
            found.append(self._correlation[1])
        if row := rows.enabled(Breaker.VPIN):
            found.append(vpin.check_vpin(self.vpin_latest, market_ms, row.window_ms, row.threshold))
        if row := rows.enabled(Breaker.MACRO):
            found.append(macro.check_macro(self.macro_series, market_ms, row.window_ms, row.threshold))
        return [b for b in found if b is not None]

    async def _read_views(self, now_ms: int, market_ms: int) -> None:
        """Read the VPIN and macro views when enabled and due by the clock, over their windows ending at
        `market_ms`; a failed read keeps the last values."""
        pool = self.runtime.pool
        if (row := self.config.enabled(Breaker.VPIN)) and self.cadence.due(
            "vpin", now_ms, vpin.READ_EVERY_MS
        ):
            names = [symbol for _, symbol in self.symbols]
            start = market_ms - row.window_ms
            await self._guarded("vpin", vpin.latest_vpin(pool, names, start, market_ms), self._set_vpin)
        if (row := self.config.enabled(Breaker.MACRO)) and self.cadence.due(
            "macro", now_ms, macro.READ_EVERY_MS
        ):
            start = macro.read_since(market_ms, row.window_ms)
            await self._guarded("macro", macro.macro_points(pool, start, market_ms), self._set_macro)

    def _set_vpin(self, readings: dict[str, Reading]) -> None:
        self.vpin_latest = readings

    def _set_macro(self, points: dict[str, list[Reading]]) -> None:
        self.macro_series = points

    async def _guarded(self, name: str, read: Awaitable[T], keep: Callable[[T], None]) -> None:
        """Await `read` and keep its result; a database error is logged once until a read succeeds."""
        try:
            keep(await read)
        except (asyncpg.PostgresError, OSError):
            if name not in self._failing:
                log.exception("risk: reading the %s view failed (retried at its cadence)", name)
            self._failing.add(name)
        else:
            self._failing.discard(name)

    def _known_tripped(self, breaker: Breaker) -> bool:
        """The latch last read has `breaker` tripped since its resume (a resume shows within REFRESH_MS)."""
        return self._view is not None and breaker in self._view.tripped

    async def _tick(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.check_interval_s)
            try:
                await self.tick()
                failing = False
            except Exception:
                if not failing:  # 30 times a second: log a failure once, until a tick succeeds
                    log.exception("risk: periodic check failed")
                failing = True

    async def start_ticker(self) -> None:
        self._ticker = asyncio.create_task(self._tick(), name="risk-breakers")

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
    check_interval_s: float = TICK_S,
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

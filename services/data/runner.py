"""The feeding loop: walks each symbol's candles, ingests each one once its minute has closed in
simulated time, and stops only between transactions.

Simulated time runs `speed` times faster than the clock from an anchor; at speed 1 with no start it is
the clock itself. On start each symbol resumes after its last stored 1m candle, replaying its walk from
its first stored candle, so a restarted feed continues the very series an uninterrupted one would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import asyncpg

from services.data.feed import MINUTE_MS, Walk, floor_minute
from services.data.ingest import Ingest

log = logging.getLogger(__name__)

RETRYABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""Errors of an unreachable or restarting database: the candle is kept and tried again."""
RETRY_S = 1.0

MAX_NAP_S = 0.25
"""Longest sleep between clock reads, so an injected clock that jumps is noticed promptly."""


@dataclass(frozen=True)
class FeedOptions:
    """What to feed and how fast: `start_ms` None means "now"; `backfill_minutes` of history are
    generated at once before the first live candle of a symbol with nothing stored."""

    symbols: Sequence[str]
    seed: int
    speed: float = 1.0
    start_ms: int | None = None
    backfill_minutes: int = 0

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be a positive number, got {self.speed!r}")
        if not self.symbols:
            raise ValueError("symbols is empty: name at least one, e.g. BTCUSDT")
        if self.backfill_minutes < 0:
            raise ValueError(f"backfill_minutes must be 0 or more, got {self.backfill_minutes}")
        if self.start_ms is not None and self.start_ms < 0:
            raise ValueError(f"start_ms must be a UTC millisecond time, got {self.start_ms}")


class SimulatedClock:
    """`anchor_sim + (clock() - anchor_wall) * speed`, in milliseconds."""

    def __init__(self, clock: Callable[[], int], speed: float, anchor_sim: int) -> None:
        self.clock = clock
        self.speed = speed
        self.anchor_sim = anchor_sim
        self.anchor_wall = clock()

    def now(self) -> int:
        return self.anchor_sim + int((self.clock() - self.anchor_wall) * self.speed)

    def seconds_until(self, sim_ms: int) -> float:
        """Clock seconds until simulated time reaches `sim_ms` (0 when it has)."""
        return max(0.0, (sim_ms - self.now()) / self.speed / 1000)


class Feeder:
    """Runs the feed as a background task: `start()` it after the pool is open, `stop()` it before."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], ingest: Ingest, options: FeedOptions) -> None:
        self._pool = pool
        self.ingest = ingest
        self.options = options
        self.ingested = 0
        self.stop_grace_s = 10.0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sim: SimulatedClock | None = None

    async def start(self) -> None:
        """Start the loop as a task of the running event loop (async: app hooks that are plain
        functions would run in a worker thread)."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name="data-feed")
            self._task.add_done_callback(_report)

    async def stop(self) -> None:
        """Ask the loop to stop after its current transaction; cancel it if it has not within
        `stop_grace_s` (a transaction cut short rolls back whole)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), self.stop_grace_s)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Feed until stopped; a failed transaction is logged and retried after a pause."""
        walks = await self._resume()
        if walks is None:
            return
        clock = self.ingest.clock
        now = clock() if self.options.start_ms is None else self.options.start_ms
        anchor = max(now, min(w.next_open_ms for w in walks))
        self.sim = SimulatedClock(clock, self.options.speed, anchor)
        while not self._stopping.is_set():
            due = min(w.next_open_ms for w in walks) + MINUTE_MS
            wait = self.sim.seconds_until(due)
            if wait > 0:
                await self._nap(min(wait, MAX_NAP_S))
                continue
            for walk in walks:
                if walk.next_open_ms + MINUTE_MS != due or self._stopping.is_set():
                    continue
                if not await self._ingest_next(walk):
                    break

    async def _ingest_next(self, walk: Walk) -> bool:
        """Ingest `walk`'s next candle; on a database error keep the candle for a retry."""
        candle = walk.peek()
        try:
            async with self._pool().acquire() as proxy:
                events = await self.ingest.ingest(cast(asyncpg.Connection, proxy), candle)
        except RETRYABLE as error:
            log.warning(
                "data feed: %s %s not ingested, retrying: %s", walk.symbol, candle.open_time_ms, error
            )
            await self._nap(RETRY_S)
            return False
        next(walk)
        self.ingested += len(events)
        return True

    async def _resume(self) -> list[Walk] | None:
        """A walk per symbol positioned after its last stored 1m candle; None if stopped meanwhile."""
        options = self.options
        start = self.ingest.clock() if options.start_ms is None else options.start_ms
        fresh_start = floor_minute(start) - options.backfill_minutes * MINUTE_MS
        while not self._stopping.is_set():
            try:
                async with self._pool().acquire() as proxy:
                    conn = cast(asyncpg.Connection, proxy)  # the pool hands out proxies of a Connection
                    spans = [await self.ingest.stored_span(conn, s) for s in options.symbols]
            except RETRYABLE as error:
                log.warning("data feed: cannot read stored candles, retrying: %s", error)
                await self._nap(RETRY_S)
                continue
            walks = []
            for symbol, span in zip(options.symbols, spans, strict=True):
                walk = Walk(symbol, seed=options.seed, start_ms=fresh_start if span is None else span[0])
                if span is not None:
                    walk.skip_to(span[1] + MINUTE_MS)
                walks.append(walk)
            return walks
        return None

    async def _nap(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("data feed stopped by an error", exc_info=error)

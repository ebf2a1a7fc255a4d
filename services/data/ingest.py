"""Ingest one closed 1m candle: its row, the higher candles it completes, their klines on the outbox,
the source's freshness, (given a `derived` hook) a series derived from it such as its perpetual twin, and
(given an `extras` hook) the market data generated at it, all in one transaction as gordon_data_writer.

A candle already stored is skipped whole (nothing published twice), so a restart or a second instance
can replay candles safely: the primary key decides, under its row lock, who ingests a minute.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import asyncpg

from producers import tracing
from producers.channels import KLINES
from producers.outbox import Outbox
from schemas.common import Market, Timeframe
from schemas.market import Kline
from services.data.aggregate import COLUMNS, TIMEFRAME_MS, aggregate, closing, frame
from services.data.feed import MINUTE_MS, Candle

HIGHER: tuple[Timeframe, ...] = (Timeframe.M5, Timeframe.M15, Timeframe.H1)

_COLUMN_LIST = ", ".join(COLUMNS)
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 2))

FRESHNESS = """
INSERT INTO market_data.source_freshness AS f (source, last_event_ms, last_ingest_ms)
VALUES ($1, $2, $3)
ON CONFLICT (source) DO UPDATE SET
    last_event_ms = GREATEST(f.last_event_ms, EXCLUDED.last_event_ms),
    last_ingest_ms = EXCLUDED.last_ingest_ms
"""


Extra = Callable[[asyncpg.Connection, Candle], Awaitable[None]]
"""Writes what else a stored candle brings (`services.data.extras.Extras.on_candle`), in its transaction."""
Derived = Callable[[asyncpg.Connection, Candle], Awaitable[list[Kline]]]
"""Ingests a series derived from a stored candle (`services.data.perp.Perp.on_candle`), in its
transaction; the klines it stored are returned with the candle's."""


def table_of(market: Market) -> str:
    """The klines table of `market`."""
    return f"market_data.{market.value}_klines"


class Ingest:
    """Writes candles of one market into its klines table and publishes them as `Kline` events."""

    def __init__(
        self,
        outbox: Outbox,
        clock: Callable[[], int],
        *,
        market: Market = Market.SPOT,
        source: str | None = None,
        timeframes: Sequence[Timeframe] = HIGHER,
        extras: Extra | None = None,
        derived: Derived | None = None,
    ) -> None:
        if Timeframe.M1 in timeframes:
            raise ValueError("timeframes lists the higher time frames; 1m is always ingested")
        self.outbox = outbox
        self.clock = clock
        self.market = market
        self.source = source or f"binance-{market.value}-demo"
        self.extras = extras
        self.derived = derived
        self.timeframes = tuple(sorted(timeframes, key=TIMEFRAME_MS.__getitem__))
        table = table_of(market)
        self._insert = (
            f"INSERT INTO {table} (tf, {_COLUMN_LIST}) VALUES ({_PLACEHOLDERS}) "
            "ON CONFLICT (symbol, tf, open_time_ms) DO NOTHING RETURNING true"
        )
        self._minutes = (
            f"SELECT {_COLUMN_LIST} FROM {table} WHERE symbol = $1 AND tf = '1m' "
            "AND open_time_ms >= $2 AND open_time_ms < $3 ORDER BY open_time_ms"
        )
        self._span = (
            f"SELECT min(open_time_ms) AS first, max(open_time_ms) AS last FROM {table} "
            "WHERE symbol = $1 AND tf = '1m'"
        )

    async def stored_span(self, conn: asyncpg.Connection, symbol: str) -> tuple[int, int] | None:
        """Open times of the first and last stored 1m candles of `symbol`, or None when there are none."""
        row = await conn.fetchrow(self._span, symbol)
        if row is None or row["first"] is None:
            return None
        return int(row["first"]), int(row["last"])

    async def ingest(self, conn: asyncpg.Connection, candle: Candle) -> list[Kline]:
        """Store and publish `candle` and the higher candles it closes, then the derived series' (the
        klines returned in that order); [] if it was already stored."""
        async with conn.transaction():
            minute = asdict(candle)
            if not await self._store(conn, Timeframe.M1, minute):
                return []
            events = [self._kline(Timeframe.M1, minute)]
            events += await self._close_higher(conn, candle)
            addresses = [
                (KLINES(market=self.market.value, symbol_lc=e.symbol.lower(), tf=e.tf.value), e)
                for e in events
            ]
            with tracing.origin(f"ingest {candle.symbol}"):  # each kline begins a trace
                await self.outbox.publish_many_within(conn, addresses)
            await conn.execute(FRESHNESS, self.source, candle.close_time_ms, self.clock())
            if self.derived is not None:
                events += await self.derived(conn, candle)
            if self.extras is not None:
                await self.extras(conn, candle)
        return events

    async def _close_higher(self, conn: asyncpg.Connection, candle: Candle) -> list[Kline]:
        buckets = {tf: b for tf in self.timeframes if (b := closing(candle.open_time_ms, tf)) is not None}
        if not buckets:
            return []
        earliest = min(buckets.values())
        rows = await conn.fetch(self._minutes, candle.symbol, earliest, candle.open_time_ms + MINUTE_MS)
        minutes = frame(rows)
        events = []
        for tf, bucket in buckets.items():
            for row in aggregate(minutes, tf).to_dicts():
                if row["open_time_ms"] == bucket and await self._store(conn, tf, row):
                    events.append(self._kline(tf, row))
        return events

    async def _store(self, conn: asyncpg.Connection, tf: Timeframe, row: Mapping[str, Any]) -> bool:
        return bool(await conn.fetchval(self._insert, tf.value, *(row[c] for c in COLUMNS)))

    def _kline(self, tf: Timeframe, row: Mapping[str, Any]) -> Kline:
        return Kline(market=self.market, tf=tf, closed=True, **{c: row[c] for c in COLUMNS})

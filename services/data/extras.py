"""Writes the market data beyond klines at each ingested 1m candle, inside the candle's transaction.

Every candle gets its aggregated trades and a VPIN; slots that the candle closes (5 min, hourly, 8 h,
daily, epoch-aligned UTC) get their rows: long/short ratio, open interest, GEX, funding and, for the
lead symbol only, the macro series and the daily sentiment. A generator's previous value is read back
from its table, so a restarted feed continues the series an uninterrupted one would have written.
Each source's `market_data.source_freshness` row moves with its rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

import asyncpg

from services.data.feed import Candle
from services.data.generators import funding, gex, long_short, macro, open_interest, sentiment, vpin
from services.data.generators.agg_trades import AggTrade, trades_of
from services.data.generators.scenario import CALM, Scenario
from services.data.generators.seeded import on_cadence
from services.data.ingest import FRESHNESS

SOURCES: dict[str, str] = {
    "agg_trades": "binance-agg-trades-demo",
    "metrics": "metrics-demo",
    "funding": "binance-funding-demo",
    "open_interest": "binance-open-interest-demo",
    "gex": "gex-demo",
    "macro": "macro-demo",
    "fear_greed": "fear-greed-demo",
    "stablecoin_supply": "stablecoin-supply-demo",
}
"""The `source_freshness.source` of each generator."""

AGG_INSERT = (
    "INSERT INTO market_data.agg_trades (symbol, agg_id, ts_ms, price, qty, buyer_maker) "
    "SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::float8[], $5::numeric[], $6::bool[]) "
    "ON CONFLICT DO NOTHING"
)
"""One statement per candle: its trades as arrays."""
METRIC_INSERT = (
    "INSERT INTO market_data.metrics (symbol, metric, ts_ms, value) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT DO NOTHING"
)
WINDOW_SQL = (
    "SELECT symbol, agg_id, ts_ms, price, qty, buyer_maker FROM market_data.agg_trades "
    "WHERE symbol = $1 AND ts_ms >= $2 ORDER BY agg_id"
)
LAST_FUNDING = (
    "SELECT rate FROM market_data.funding_rates WHERE symbol = $1 AND funding_time_ms < $2 "
    "ORDER BY funding_time_ms DESC LIMIT 1"
)
"""The rate paid last before a funding time: the funding chain's previous value (and the perp basis's)."""
LAST_AGG_ID = "SELECT max(agg_id) FROM market_data.agg_trades WHERE symbol = $1"


class Extras:
    """The generators of one feed: `seed` and `scenario` decide every value; `lead` carries the
    symbol-less sources (macro, fear & greed, stablecoin supply)."""

    def __init__(self, clock: Callable[[], int], *, seed: int, lead: str, scenario: Scenario = CALM) -> None:
        self.clock = clock
        self.seed = seed
        self.lead = lead
        self.scenario = scenario
        self._windows: dict[str, list[AggTrade]] = {}

    async def on_candle(self, conn: asyncpg.Connection, candle: Candle) -> None:
        """Write everything `candle` (just stored, same transaction) brings; idempotent per candle."""
        end = candle.close_time_ms + 1
        await self._trades_and_vpin(conn, candle, end)
        if on_cadence(end, long_short.PERIOD_MS):
            await self._long_short(conn, candle.symbol, end)
        if on_cadence(end, open_interest.PERIOD_MS):
            await self._open_interest(conn, candle, end)
            await self._gex(conn, candle, end)
        if on_cadence(end, funding.PERIOD_MS):
            await self._funding(conn, candle, end)
        if candle.symbol != self.lead:
            return
        if on_cadence(end, macro.PERIOD_MS):
            await self._macro(conn, end)
        if on_cadence(end, sentiment.PERIOD_MS):
            await self._sentiment(conn, candle, end)

    async def _fresh(self, conn: asyncpg.Connection, source: str, event_ms: int) -> None:
        await conn.execute(FRESHNESS, SOURCES[source], event_ms, self.clock())

    async def _trades_and_vpin(self, conn: asyncpg.Connection, candle: Candle, end: int) -> None:
        trades = trades_of(candle, seed=self.seed, scenario=self.scenario)
        window = await self._window(conn, candle.symbol, end - vpin.WINDOW_MS)
        await conn.execute(
            AGG_INSERT,
            candle.symbol,
            [t.agg_id for t in trades],
            [t.ts_ms for t in trades],
            [t.price for t in trades],
            [t.qty for t in trades],
            [t.buyer_maker for t in trades],
        )
        await self._fresh(conn, "agg_trades", trades[-1].ts_ms)
        # A new list: if this transaction rolls back, the cache check below reloads from the table.
        window = [t for t in window if t.ts_ms >= end - vpin.WINDOW_MS] + trades
        self._windows[candle.symbol] = window
        value = vpin.vpin(window, vpin.bucket_volume(candle.symbol))
        if value is not None:
            await conn.execute(METRIC_INSERT, candle.symbol, "vpin", end, round(value, 8))
            await self._fresh(conn, "metrics", end)

    async def _window(self, conn: asyncpg.Connection, symbol: str, since_ms: int) -> list[AggTrade]:
        """The symbol's stored trades since `since_ms`: the cache when it ends where the table does."""
        cached = self._windows.get(symbol)
        last = await conn.fetchval(LAST_AGG_ID, symbol)
        if cached and last == cached[-1].agg_id:
            return cached
        rows = await conn.fetch(WINDOW_SQL, symbol, since_ms)
        return [AggTrade(**dict(r)) for r in rows]

    async def _long_short(self, conn: asyncpg.Connection, symbol: str, end: int) -> None:
        previous = await conn.fetchval(
            "SELECT value FROM market_data.metrics WHERE symbol = $1 AND metric = 'long_short_ratio' "
            "AND ts_ms < $2 ORDER BY ts_ms DESC LIMIT 1",
            symbol,
            end,
        )
        ratio = long_short.long_short_ratio(previous, seed=self.seed, symbol=symbol, ts_ms=end)
        await conn.execute(METRIC_INSERT, symbol, "long_short_ratio", end, ratio)
        await self._fresh(conn, "metrics", end)

    async def _open_interest(self, conn: asyncpg.Connection, candle: Candle, end: int) -> None:
        row = await conn.fetchrow(
            "SELECT open_interest, open_interest_usd FROM market_data.open_interest "
            "WHERE symbol = $1 AND ts_ms < $2 ORDER BY ts_ms DESC LIMIT 1",
            candle.symbol,
            end,
        )
        previous: Decimal | None = None if row is None else row["open_interest"]
        hour_return = 0.0
        if row is not None and row["open_interest"] > 0:
            hour_return = math.log(candle.close / (row["open_interest_usd"] / float(row["open_interest"])))
        point = open_interest.open_interest_at(
            previous,
            seed=self.seed,
            symbol=candle.symbol,
            ts_ms=end,
            price=candle.close,
            hour_return=hour_return,
        )
        await conn.execute(
            "INSERT INTO market_data.open_interest (symbol, ts_ms, open_interest, open_interest_usd) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            point.symbol,
            point.ts_ms,
            point.open_interest,
            point.open_interest_usd,
        )
        await self._fresh(conn, "open_interest", end)

    async def _gex(self, conn: asyncpg.Connection, candle: Candle, end: int) -> None:
        snap = gex.gex_at(seed=self.seed, symbol=candle.symbol, ts_ms=end, spot=candle.close)
        stored = await conn.fetchval(
            "INSERT INTO market_data.gamma_exposure "
            "(symbol, ts_ms, total_gex, flip_price, call_wall, put_wall, regime) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING true",
            snap.symbol,
            snap.ts_ms,
            snap.total_gex,
            snap.flip_price,
            snap.call_wall,
            snap.put_wall,
            snap.regime,
        )
        if stored:
            await conn.executemany(
                "INSERT INTO market_data.gamma_exposure_strikes (symbol, ts_ms, strike, gex) "
                "VALUES ($1, $2, $3, $4)",
                [(snap.symbol, snap.ts_ms, s.strike, s.gex) for s in snap.strikes],
            )
        await self._fresh(conn, "gex", end)

    async def _funding(self, conn: asyncpg.Connection, candle: Candle, end: int) -> None:
        previous = await conn.fetchval(LAST_FUNDING, candle.symbol, end)
        row = funding.funding_at(
            previous, seed=self.seed, symbol=candle.symbol, ts_ms=end, mark_price=candle.close
        )
        await conn.execute(
            "INSERT INTO market_data.funding_rates (symbol, funding_time_ms, rate, mark_price) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            row.symbol,
            row.funding_time_ms,
            row.rate,
            row.mark_price,
        )
        await self._fresh(conn, "funding", end)

    async def _macro(self, conn: asyncpg.Connection, end: int) -> None:
        for series in macro.SERIES:
            previous = await conn.fetchval(
                "SELECT value FROM market_data.macro_data WHERE series = $1 AND ts_ms < $2 "
                "ORDER BY ts_ms DESC LIMIT 1",
                series,
                end,
            )
            point = macro.macro_at(series, previous, seed=self.seed, ts_ms=end, scenario=self.scenario)
            await conn.execute(
                "INSERT INTO market_data.macro_data (series, ts_ms, value) VALUES ($1, $2, $3) "
                "ON CONFLICT DO NOTHING",
                point.series,
                point.ts_ms,
                point.value,
            )
        await self._fresh(conn, "macro", end)

    async def _sentiment(self, conn: asyncpg.Connection, candle: Candle, end: int) -> None:
        previous = await conn.fetchval(
            "SELECT value FROM market_data.fear_greed WHERE ts_ms < $1 ORDER BY ts_ms DESC LIMIT 1", end
        )
        index = sentiment.fear_greed_at(previous, seed=self.seed, ts_ms=end)
        await conn.execute(
            "INSERT INTO market_data.fear_greed (ts_ms, value, classification) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            index.ts_ms,
            index.value,
            index.classification,
        )
        await self._fresh(conn, "fear_greed", end)
        supply = await conn.fetchval(
            "SELECT supply_usd FROM market_data.stablecoin_supply WHERE ts_ms < $1 "
            "ORDER BY ts_ms DESC LIMIT 1",
            end,
        )
        point = sentiment.stablecoin_supply_at(supply, seed=self.seed, ts_ms=end, btc_price=candle.close)
        await conn.execute(
            "INSERT INTO market_data.stablecoin_supply (ts_ms, supply_usd, ssr) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            point.ts_ms,
            point.supply_usd,
            point.ssr,
        )
        await self._fresh(conn, "stablecoin_supply", end)

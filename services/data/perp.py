"""The perpetual twin of a spot feed: each ingested spot 1m candle's perpetual candle
(`services.data.generators.perp`), ingested by its own `Ingest` of market perp (perp_klines with its
5m/15m/1h aggregates, Kline events on market.klines.binance.perp.…, source binance-perp-demo) in the
spot candle's transaction.

With `funding` the basis targets the funding series `services.data.extras` writes: the rate stored
last before the minute's funding time, and the rate the funding generator pays at that time from it,
both read back from the table, so a restarted feed writes what an uninterrupted one would. Without it
(no funding series is written) the basis reverts to the base rate.
"""

from __future__ import annotations

import asyncpg

from schemas.common import Market
from schemas.market import Kline
from services.data.extras import LAST_FUNDING
from services.data.feed import Candle
from services.data.generators import funding, perp
from services.data.ingest import Ingest


class Perp:
    """Derives and ingests the perpetual candle of every spot candle (`Ingest(derived=on_candle)`)."""

    def __init__(self, ingest: Ingest, *, seed: int, funding: bool = True) -> None:
        if ingest.market is not Market.PERP:
            raise ValueError(f"the perpetual twin ingests into market perp, not {ingest.market.value}")
        self.ingest = ingest
        self.seed = seed
        self.funding = funding

    async def target(self, conn: asyncpg.Connection, spot: Candle) -> float:
        """The premium the basis of `spot`'s minute reverts to."""
        if not self.funding:
            return funding.BASE_RATE
        end = spot.close_time_ms + 1
        due = perp.due_ms(end)
        paid = await conn.fetchval(LAST_FUNDING, spot.symbol, due)
        rate = funding.rate_at(paid, seed=self.seed, symbol=spot.symbol, ts_ms=due)
        return perp.target_at(end, paid=paid, due=rate)

    async def on_candle(self, conn: asyncpg.Connection, spot: Candle) -> list[Kline]:
        """Ingest the perpetual candle of `spot` (just stored, same transaction) and the higher ones it
        closes; [] if it was already stored."""
        candle = perp.perp_of(spot, seed=self.seed, target=await self.target(conn, spot))
        return await self.ingest.ingest(conn, candle)

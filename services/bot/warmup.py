"""Warm-up: the closes a new bot needs before its first live kline, read from v_klines_reader.

A new bot's durable starts at new klines, so its windows would otherwise take `slow` candles to fill.
The read happens in the transaction of the first live kline and takes only candles that opened before
it: those are closed, and none of them is folded twice.
"""

from __future__ import annotations

import asyncpg

from services.bot.config import BotConfig

LAST_CLOSES = """
SELECT open_time_ms, close FROM market_data.v_klines_reader
WHERE market = $1 AND symbol = $2 AND tf = $3 AND open_time_ms < $4
ORDER BY open_time_ms DESC
LIMIT $5
"""


async def last_closes(conn: asyncpg.Connection, config: BotConfig, before_ms: int, count: int) -> list[float]:
    """The closes of the last `count` candles of `config`'s series that opened before `before_ms`,
    oldest first (fewer when the history is shorter)."""
    rows = await conn.fetch(
        LAST_CLOSES, config.market.value, config.symbol, config.tf.value, before_ms, count
    )
    return [float(row["close"]) for row in reversed(rows)]

"""Daily notional caps, checked and counted in the placing transaction of a bot's intent.

An intent's notional is its qty at its limit price (a limit order) or at the latest 1m close (a market
order). The day is the UTC day of the executor's clock. Each placing transaction locks the day's global
row, then the bot's (created at zero when missing), so placings of one day are counted one after another;
an intent whose notional would take the bot's or the global total past its cap is rejected, and only a
placed order is counted. No cap row means no cap; risk's flatten orders are never capped.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import asyncpg

DAY_MS = 86_400_000

LOCK_GLOBAL = """
INSERT INTO trading.global_daily_notional AS g (day_ms, notional) VALUES ($1, 0)
ON CONFLICT (day_ms) DO UPDATE SET notional = g.notional RETURNING notional
"""
LOCK_BOT = """
INSERT INTO trading.bot_daily_notional AS b (bot_id, day_ms, notional) VALUES ($1, $2, 0)
ON CONFLICT (bot_id, day_ms) DO UPDATE SET notional = b.notional RETURNING notional
"""
GLOBAL_CAP = "SELECT daily_cap FROM trading.global_notional_cap WHERE id = 1"
BOT_CAP = "SELECT daily_cap FROM trading.bot_notional_caps WHERE bot_id = $1"
ADD_GLOBAL = "UPDATE trading.global_daily_notional SET notional = notional + $2 WHERE day_ms = $1"
ADD_BOT = "UPDATE trading.bot_daily_notional SET notional = notional + $3 WHERE bot_id = $1 AND day_ms = $2"


def utc_day(ms: int) -> int:
    """The start of the UTC day `ms` falls in (UTC milliseconds)."""
    return ms - ms % DAY_MS


async def refusal(tx: asyncpg.Connection, bot_id: UUID, notional: Decimal, now_ms: int) -> str | None:
    """Lock the day's totals and say why `notional` more would pass a cap, or None."""
    day = utc_day(now_ms)
    placed = Decimal(await tx.fetchval(LOCK_GLOBAL, day))  # the upsert takes the row lock
    cap = await tx.fetchval(GLOBAL_CAP)
    if cap is not None and placed + notional > cap:
        return f"global daily notional cap {cap}: {placed} placed today, {notional} more would pass it"
    placed = Decimal(await tx.fetchval(LOCK_BOT, bot_id, day))
    cap = await tx.fetchval(BOT_CAP, bot_id)
    if cap is not None and placed + notional > cap:
        return f"bot daily notional cap {cap}: {placed} placed today, {notional} more would pass it"
    return None


async def count(tx: asyncpg.Connection, bot_id: UUID, notional: Decimal, now_ms: int) -> None:
    """Add a placed order's notional to the day's totals (rows locked by `refusal`)."""
    day = utc_day(now_ms)
    await tx.execute(ADD_GLOBAL, day, notional)
    await tx.execute(ADD_BOT, bot_id, day, notional)

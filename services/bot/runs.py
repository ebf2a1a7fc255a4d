"""A bot's runs (`trading.runs`): the bot service opens one per bot it runs when it starts, and stops
them when it shuts down. The platform trades on the paper exchange only, so every run is 'paper'.
Each run records the kline series its bot subscribes to (`trading.symbol_subscriptions`).

A run still 'running' when its bot starts again belongs to a process that did not shut down cleanly:
it is stopped then, at the new start's time (one running run per bot, a unique index says so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg

from registry.ids import uuid7
from services.bot.config import BotConfig

MODE = "paper"

STOP_LEFT_OVER = """
UPDATE trading.runs SET status = 'stopped', stopped_ms = greatest(started_ms, $2)
WHERE bot_id = ANY($1::uuid[]) AND status = 'running'
"""
OPEN = """
INSERT INTO trading.runs (id, bot_id, mode, status, started_ms)
SELECT id, bot_id, $3, 'running', $4 FROM unnest($1::uuid[], $2::uuid[]) AS r (id, bot_id)
"""
SUBSCRIBE = """
INSERT INTO trading.symbol_subscriptions (run_id, bot_id, symbol, market, tf)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])
"""
STOP = """
UPDATE trading.runs SET status = 'stopped', stopped_ms = greatest(started_ms, $2)
WHERE id = ANY($1::uuid[]) AND status = 'running'
"""


async def open_runs(conn: asyncpg.Connection, bot_ids: Sequence[UUID], now_ms: int) -> dict[UUID, UUID]:
    """Start a run for each bot (stopping any it left running); returns run id by bot id."""
    runs = {bot_id: uuid7(now_ms) for bot_id in bot_ids}
    async with conn.transaction():
        await conn.execute(STOP_LEFT_OVER, list(runs), now_ms)
        await conn.execute(OPEN, list(runs.values()), list(runs), MODE, now_ms)
    return runs


async def stop_runs(conn: asyncpg.Connection, run_ids: Sequence[UUID], now_ms: int) -> int:
    """Stop the runs still running among `run_ids`; returns how many."""
    done = await conn.execute(STOP, list(run_ids), now_ms)
    return int(done.split()[-1])


async def record_subscriptions(
    conn: asyncpg.Connection, configs: Sequence[BotConfig], runs: Mapping[UUID, UUID]
) -> None:
    """Record the series (its durable's kline subject) each bot of `runs` subscribes to in its run."""
    subscribed = [c for c in configs if c.bot_id in runs]
    await conn.execute(
        SUBSCRIBE,
        [runs[c.bot_id] for c in subscribed],
        [c.bot_id for c in subscribed],
        [c.symbol for c in subscribed],
        [c.market.value for c in subscribed],
        [c.tf.value for c in subscribed],
    )

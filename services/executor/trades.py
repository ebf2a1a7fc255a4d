"""The executor's fills as exchange records (`trading.trades`): one row per fill, written in the fill's
transaction, tied to the bot's running run (`trading.runs`) when it has one (none: run_id is null)."""

from __future__ import annotations

import asyncpg

from schemas.trading import Fill

VENUE = "paper"

INSERT = """
INSERT INTO trading.trades (trade_id, run_id, bot_id, order_id, venue, symbol, market, side, qty, price,
                            fee, fee_asset, liquidity, ts_ms)
VALUES ($1, (SELECT id FROM trading.runs WHERE bot_id = $2 AND status = 'running'), $2, $3, $4, $5, $6,
        $7, $8, $9, $10, $11, $12, $13)
"""


async def record_trade(tx: asyncpg.Connection, fill: Fill) -> None:
    """Record `fill` as the paper exchange's trade (its id is the fill's)."""
    await tx.execute(
        INSERT,
        fill.fill_id,
        fill.bot_id,
        fill.order_id,
        VENUE,
        fill.symbol,
        fill.market.value,
        fill.side.value,
        fill.qty,
        fill.price,
        fill.fee,
        fill.fee_asset,
        fill.liquidity.value,
        fill.ts_ms,
    )

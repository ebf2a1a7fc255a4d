"""The executor's positions, folded from its own `trading.fill_events` under each position's head lock
(never from the positions read model, which lags)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.positions import PositionState, apply_fill
from schemas.trading import Fill
from stores.fills import FillStore

FILL_COLUMNS = (
    "fill_id, bot_id, order_id, version, symbol, market, side, qty, price, fee, fee_asset, liquidity, "
    "ts_ms, event_id"
)


async def position_of(
    tx: asyncpg.Connection, fills: FillStore, bot_id: UUID, symbol: str
) -> PositionState | None:
    """The bot's position in `symbol` (None before its first fill); locks the position's head."""
    await fills.next_version(tx, bot_id, symbol)
    rows = await tx.fetch(
        f"SELECT {FILL_COLUMNS} FROM trading.fill_events WHERE bot_id = $1 AND symbol = $2 ORDER BY version",
        bot_id,
        symbol,
    )
    state: PositionState | None = None
    for row in rows:
        state = apply_fill(state, Fill(**dict(row)))
    return state

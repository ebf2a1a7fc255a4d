"""The executor's positions, folded from its own `trading.fill_events` under each position's head lock
(never from the positions read model, which lags)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.positions import PositionState, apply_fill
from stores.fills import EVENTS, FillStore

FILL_COLUMNS = EVENTS.column_list


async def position_of(
    tx: asyncpg.Connection, fills: FillStore, bot_id: UUID, symbol: str
) -> PositionState | None:
    """The bot's position in `symbol` (None before its first fill); locks the position's head."""
    await fills.next_version(tx, bot_id, symbol)
    rows = await tx.fetch(
        EVENTS.select("bot_id = $1 AND symbol = $2"),
        bot_id,
        symbol,
    )
    state: PositionState | None = None
    for row in rows:
        state = apply_fill(state, EVENTS.event(row))
    return state

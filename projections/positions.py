"""The positions read model: one row per bot and symbol (quantity, average entry, realized PnL, fees)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg

from domain.positions import PositionState, apply_fill
from projections.base import Projection
from projections.rows import Table
from registry.event import Event
from schemas.trading import FILLS, Fill

Key = tuple[UUID, str]
TABLE = Table(PositionState, "positions", ["bot_id", "symbol"])


class ByPosition:
    """A read model of fills whose aggregate is the position: (bot, symbol), versioned by the fill."""

    def key(self, event: Event) -> Key:
        assert isinstance(event, Fill)
        return (event.bot_id, event.symbol)

    def version(self, event: Event) -> int:
        assert isinstance(event, Fill)
        return event.version


class PositionsProjection(ByPosition, Projection[Key, PositionState]):
    name = "positions"
    subject = FILLS
    view = "positions"

    def ddl(self, schema: str) -> list[str]:
        return [
            f"""CREATE TABLE {schema}.positions (
                bot_id uuid NOT NULL,
                symbol text NOT NULL,
                market text NOT NULL CHECK (market IN ('spot', 'perp')),
                qty numeric NOT NULL,
                avg_entry_price numeric NOT NULL,
                realized_pnl numeric NOT NULL,
                fees numeric NOT NULL,
                version integer NOT NULL,
                updated_ms bigint NOT NULL,
                PRIMARY KEY (bot_id, symbol)
            )"""
        ]

    def state_version(self, state: PositionState) -> int:
        return state.version

    def fold(self, state: PositionState | None, event: Event) -> PositionState:
        assert isinstance(event, Fill)
        return apply_fill(state, event)

    async def load(
        self, conn: asyncpg.Connection, schema: str, keys: Sequence[Key]
    ) -> dict[Key, PositionState]:
        bots = [k[0] for k in keys]
        symbols = [k[1] for k in keys]
        return {(r[0], r[1]): TABLE.state(r) for r in await conn.fetch(TABLE.select(schema), bots, symbols)}

    async def save(self, conn: asyncpg.Connection, schema: str, states: Mapping[Key, PositionState]) -> None:
        await TABLE.save(conn, schema, states.values())

    @property
    def order_by(self) -> str:
        return "bot_id, symbol"

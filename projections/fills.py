"""The fills read model: one row per fill, with the bot's position in that symbol right after it.

Each row carries the running position (quantity, average entry, realized PnL and fees after the fill),
folded by the same average-cost reducer as the positions projection, so a bot's realized PnL over time
is a column of its fills, not a second calculation somewhere else. The aggregate is the position (bot,
symbol) and its version is the fill's: a duplicate is skipped, a gap waits or halts, as everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import asyncpg

from domain.positions import PositionState, apply_fill
from projections.base import Projection
from projections.positions import ByPosition, Key
from projections.rows import Table
from registry.event import Event
from schemas.common import Market, Side
from schemas.trading import FILLS, Fill, Liquidity


@dataclass(frozen=True)
class FillRow:
    """One fill as it executed, and the position (bot, symbol) after it."""

    fill_id: UUID
    bot_id: UUID
    order_id: UUID
    version: int
    symbol: str
    market: Market
    side: Side
    qty: Decimal
    price: float
    fee: Decimal
    fee_asset: str
    liquidity: Liquidity
    ts_ms: int
    priced_at_ms: int | None
    event_id: UUID
    position_qty: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal
    fees: Decimal

    def position(self) -> PositionState:
        """The position right after this fill."""
        return PositionState(
            bot_id=self.bot_id,
            symbol=self.symbol,
            market=self.market,
            qty=self.position_qty,
            avg_entry_price=self.avg_entry_price,
            realized_pnl=self.realized_pnl,
            fees=self.fees,
            version=self.version,
            updated_ms=self.ts_ms,
        )


def fill_row(fill: Fill, after: PositionState) -> FillRow:
    """The row of `fill`, given the position it left."""
    return FillRow(
        fill_id=fill.fill_id,
        bot_id=fill.bot_id,
        order_id=fill.order_id,
        version=fill.version,
        symbol=fill.symbol,
        market=fill.market,
        side=fill.side,
        qty=fill.qty,
        price=fill.price,
        fee=fill.fee,
        fee_asset=fill.fee_asset,
        liquidity=fill.liquidity,
        ts_ms=fill.ts_ms,
        priced_at_ms=fill.priced_at_ms,
        event_id=fill.event_id,
        position_qty=after.qty,
        avg_entry_price=after.avg_entry_price,
        realized_pnl=after.realized_pnl,
        fees=after.fees,
    )


@dataclass(frozen=True)
class FillsTail:
    """The runner's state of one position: where it stands, and the rows folded since it was loaded."""

    position: PositionState
    new: tuple[FillRow, ...] = ()


TABLE = Table(FillRow, "fills", ["bot_id", "symbol", "version"])

LATEST = f"""
SELECT DISTINCT ON (bot_id, symbol) {", ".join(TABLE.columns)} FROM {{schema}}.fills
WHERE (bot_id, symbol) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))
ORDER BY bot_id, symbol, version DESC
"""


class FillsProjection(ByPosition, Projection[Key, FillsTail]):
    name = "fills"
    subject = FILLS
    view = "fills"

    def ddl(self, schema: str) -> list[str]:
        return [
            f"""CREATE TABLE {schema}.fills (
                fill_id uuid NOT NULL UNIQUE,
                bot_id uuid NOT NULL,
                order_id uuid NOT NULL,
                version integer NOT NULL,
                symbol text NOT NULL,
                market text NOT NULL CHECK (market IN ('spot', 'perp')),
                side text NOT NULL CHECK (side IN ('buy', 'sell')),
                qty numeric NOT NULL,
                price double precision NOT NULL,
                fee numeric NOT NULL,
                fee_asset text NOT NULL,
                liquidity text NOT NULL CHECK (liquidity IN ('maker', 'taker')),
                ts_ms bigint NOT NULL,
                priced_at_ms bigint,
                event_id uuid NOT NULL,
                position_qty numeric NOT NULL,
                avg_entry_price numeric NOT NULL,
                realized_pnl numeric NOT NULL,
                fees numeric NOT NULL,
                PRIMARY KEY (bot_id, symbol, version)
            )""",
            # GET /fills pages newest first by fill id (a UUIDv7), optionally for one bot
            f"CREATE INDEX ON {schema}.fills (bot_id, fill_id)",
        ]

    def state_version(self, state: FillsTail) -> int:
        return state.position.version

    def fold(self, state: FillsTail | None, event: Event) -> FillsTail:
        assert isinstance(event, Fill)
        after = apply_fill(state.position if state else None, event)
        return FillsTail(after, (*(state.new if state else ()), fill_row(event, after)))

    async def load(self, conn: asyncpg.Connection, schema: str, keys: Sequence[Key]) -> dict[Key, FillsTail]:
        bots = [k[0] for k in keys]
        symbols = [k[1] for k in keys]
        found = await conn.fetch(LATEST.format(schema=schema), bots, symbols)
        return {(r[1], r[4]): FillsTail(TABLE.state(r).position()) for r in found}

    async def save(self, conn: asyncpg.Connection, schema: str, states: Mapping[Key, FillsTail]) -> None:
        # Every row is new (the runner skips a version already applied): an insert, never an update.
        rows = [TABLE.row(row) for state in states.values() for row in state.new]
        if rows:
            await conn.executemany(TABLE.insert(schema), rows)

    @property
    def order_by(self) -> str:
        return "bot_id, symbol, version"

"""The equity curve read model: one row per closing fill of a bot, its equity right after it (base
capital plus realized PnL minus fees over all its symbols), with the peak and drawdown so far."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from domain.performance import EquityPoint, Ledger, apply_ledger
from projections import books, ledgers
from projections.base import Projection
from projections.rows import Table
from registry.event import Event
from schemas.trading import FILLS, Fill

SUMMARIES = ledgers.summary_table("equity_summaries")
TABLE = Table(EquityPoint, "equity_points", ["bot_id", "point"])


@dataclass(frozen=True)
class EquityTail:
    """The runner's state of one bot: its ledger, and the points added since it was loaded."""

    ledger: Ledger
    new: tuple[EquityPoint, ...] = ()


class EquityProjection(ledgers.ByBot, Projection[UUID, EquityTail]):
    name = "equity_points"
    subject = FILLS
    view = "equity_points"

    def ddl(self, schema: str) -> list[str]:
        return [
            f"""CREATE TABLE {schema}.equity_points (
                bot_id uuid NOT NULL,
                point integer NOT NULL,
                ts_ms bigint NOT NULL,
                symbol text NOT NULL,
                version integer NOT NULL,
                fill_id uuid NOT NULL UNIQUE,
                net_pnl numeric NOT NULL,
                equity numeric NOT NULL,
                peak_equity numeric NOT NULL,
                drawdown numeric NOT NULL,
                PRIMARY KEY (bot_id, point)
            )""",
            ledgers.summary_ddl(schema, "equity_summaries"),
            books.ddl(schema),
        ]

    def state_version(self, state: EquityTail) -> int:
        # a ledger has a version per position: the runner asks `applied`; this is the highest one
        return max((b.version for b in state.ledger.books.values()), default=0)

    def applied(self, state: EquityTail, event: Event) -> int:
        return ledgers.applied(state.ledger, event)

    def fold(self, state: EquityTail | None, event: Event) -> EquityTail:
        assert isinstance(event, Fill)
        ledger, point = apply_ledger(state.ledger if state else None, event)
        new = state.new if state else ()
        return EquityTail(ledger, (*new, point) if point else new)

    async def load(
        self, conn: asyncpg.Connection, schema: str, keys: Sequence[UUID]
    ) -> dict[UUID, EquityTail]:
        return {k: EquityTail(v) for k, v in (await ledgers.load(conn, schema, SUMMARIES, keys)).items()}

    async def save(self, conn: asyncpg.Connection, schema: str, states: Mapping[UUID, EquityTail]) -> None:
        await ledgers.save(conn, schema, SUMMARIES, (s.ledger for s in states.values()))
        rows = [TABLE.row(point) for state in states.values() for point in state.new]
        if rows:  # each closing fill adds one point: an insert, never an update
            await conn.executemany(TABLE.insert(schema), rows)

    @property
    def order_by(self) -> str:
        return "bot_id, point"

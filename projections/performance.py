"""The performance read model: one row per bot (return, max drawdown, win rate, Sharpe over its
roundtrips), updated by each closing fill; folded by `domain.performance.apply_ledger`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg

from domain.performance import Ledger, apply_ledger
from projections import books, ledgers
from projections.base import Projection
from registry.event import Event
from schemas.trading import FILLS, Fill

TABLE = ledgers.summary_table("performance_snapshots")


class PerformanceProjection(ledgers.ByBot, Projection[UUID, Ledger]):
    name = "performance_snapshots"
    subject = FILLS
    view = "performance_snapshots"

    def ddl(self, schema: str) -> list[str]:
        return [ledgers.summary_ddl(schema, "performance_snapshots"), books.ddl(schema)]

    def state_version(self, state: Ledger) -> int:
        # a ledger has a version per position: the runner asks `applied`; this is the highest one
        return max((b.version for b in state.books.values()), default=0)

    def applied(self, state: Ledger, event: Event) -> int:
        return ledgers.applied(state, event)

    def fold(self, state: Ledger | None, event: Event) -> Ledger:
        assert isinstance(event, Fill)
        return apply_ledger(state, event)[0]

    async def load(self, conn: asyncpg.Connection, schema: str, keys: Sequence[UUID]) -> dict[UUID, Ledger]:
        return await ledgers.load(conn, schema, TABLE, keys)

    async def save(self, conn: asyncpg.Connection, schema: str, states: Mapping[UUID, Ledger]) -> None:
        await ledgers.save(conn, schema, TABLE, states.values())

    @property
    def order_by(self) -> str:
        return "bot_id"

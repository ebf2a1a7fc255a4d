"""What the equity and performance read models share: a bot's ledger keyed by bot, over the version
streams of its positions (each fill is versioned per bot and symbol), stored as books and a summary.

Each projection keeps its own `trip_books` and summary table in its generation, so each rebuilds alone.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from uuid import UUID

import asyncpg

from domain.performance import Ledger, Performance
from projections import books
from projections.rows import Table
from registry.event import Event
from schemas.trading import Fill


def summary_table(name: str) -> Table[Performance]:
    return Table(Performance, name, ["bot_id"])


def summary_ddl(schema: str, name: str) -> str:
    """The CREATE statement of a table of `Performance` rows, one per bot."""
    return f"""CREATE TABLE {schema}.{name} (
        bot_id uuid PRIMARY KEY,
        trips integer NOT NULL,
        wins integer NOT NULL,
        win_rate numeric,
        net_pnl numeric NOT NULL,
        total_return numeric NOT NULL,
        equity numeric NOT NULL,
        peak_equity numeric NOT NULL,
        max_drawdown numeric NOT NULL,
        sharpe numeric,
        sum_returns numeric NOT NULL,
        sum_squares numeric NOT NULL,
        points integer NOT NULL,
        updated_ms bigint NOT NULL
    )"""


class ByBot:
    """A read model of fills whose aggregate is the bot, with one version stream per symbol."""

    def key(self, event: Event) -> UUID:
        assert isinstance(event, Fill)
        return event.bot_id

    def stream(self, event: Event) -> Hashable:
        assert isinstance(event, Fill)
        return (event.bot_id, event.symbol)

    def version(self, event: Event) -> int:
        assert isinstance(event, Fill)
        return event.version


async def load(
    conn: asyncpg.Connection, schema: str, summaries: Table[Performance], bots: Sequence[UUID]
) -> dict[UUID, Ledger]:
    """The stored ledger of each of `bots` that has a book."""
    found = await books.of_bots(conn, schema, bots)
    known = {r[0]: summaries.state(r) for r in await conn.fetch(summaries.select(schema), list(bots))}
    return {bot: Ledger(bot, by_symbol, known.get(bot)) for bot, by_symbol in found.items()}


async def save(
    conn: asyncpg.Connection, schema: str, summaries: Table[Performance], ledgers: Iterable[Ledger]
) -> None:
    """Upsert the ledgers' books and summaries."""
    chosen = list(ledgers)
    await books.save(conn, schema, (b for ledger in chosen for b in ledger.books.values()))
    await summaries.save(conn, schema, (ledger.performance for ledger in chosen if ledger.performance))


def applied(ledger: Ledger, event: Event) -> int:
    """The version of the event's position already folded into `ledger` (0 for none)."""
    assert isinstance(event, Fill)
    return ledger.version_of(event.symbol)

"""The trip books a fills read model folds on (`domain.roundtrips.TripBook`), stored beside its table.

Each of the roundtrips, equity and performance projections keeps its own `trip_books` table in its
generation schema, so each rebuilds alone; the book is the position plus the open roundtrip's sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

import asyncpg

from domain.roundtrips import TripBook
from projections.rows import Table

TABLE = Table(TripBook, "trip_books", ["bot_id", "symbol"])


def ddl(schema: str) -> str:
    """The CREATE statement of `schema.trip_books`."""
    return f"""CREATE TABLE {schema}.trip_books (
        bot_id uuid NOT NULL,
        symbol text NOT NULL,
        market text NOT NULL CHECK (market IN ('spot', 'perp')),
        qty numeric NOT NULL,
        avg_entry_price numeric NOT NULL,
        realized_pnl numeric NOT NULL,
        fees numeric NOT NULL,
        version integer NOT NULL,
        updated_ms bigint NOT NULL,
        trips integer NOT NULL,
        trip_side text CHECK (trip_side IN ('long', 'short')),
        trip_opened_ms bigint,
        trip_base_pnl numeric NOT NULL,
        trip_base_fees numeric NOT NULL,
        trip_closed_qty numeric NOT NULL,
        trip_exit_notional numeric NOT NULL,
        PRIMARY KEY (bot_id, symbol)
    )"""


async def of_positions(
    conn: asyncpg.Connection, schema: str, keys: Sequence[tuple[UUID, str]]
) -> dict[tuple[UUID, str], TripBook]:
    """The stored books of (bot, symbol) `keys`."""
    found = await conn.fetch(TABLE.select(schema), [k[0] for k in keys], [k[1] for k in keys])
    return {(r[0], r[1]): TABLE.state(r) for r in found}


async def of_bots(
    conn: asyncpg.Connection, schema: str, bots: Sequence[UUID]
) -> dict[UUID, dict[str, TripBook]]:
    """Every stored book of each of `bots`, by symbol."""
    query = f"SELECT {', '.join(TABLE.columns)} FROM {schema}.trip_books WHERE bot_id = ANY($1)"
    out: dict[UUID, dict[str, TripBook]] = {}
    for r in await conn.fetch(query, list(bots)):
        book = TABLE.state(r)
        out.setdefault(book.bot_id, {})[book.symbol] = book
    return out


async def save(conn: asyncpg.Connection, schema: str, books: Iterable[TripBook]) -> None:
    await TABLE.save(conn, schema, books)

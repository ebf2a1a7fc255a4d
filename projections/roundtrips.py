"""The roundtrips read model: one row per closed entry-exit pair of a bot in a symbol.

Folded by `domain.roundtrips.apply_trip` over the fills; the aggregate is the position (bot, symbol)
and its version is the fill's, as for positions and fills. Open roundtrips are not rows: their running
sums live in the generation's `trip_books`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg

from domain.roundtrips import Roundtrip, TripBook, apply_trip
from projections import books
from projections.base import Projection
from projections.positions import ByPosition, Key
from projections.rows import Table
from registry.event import Event
from schemas.trading import FILLS, Fill


@dataclass(frozen=True)
class TripsTail:
    """The runner's state of one position: its book, and the roundtrips closed since it was loaded."""

    book: TripBook
    new: tuple[Roundtrip, ...] = ()


TABLE = Table(Roundtrip, "roundtrips", ["bot_id", "symbol", "number"])


class RoundtripsProjection(ByPosition, Projection[Key, TripsTail]):
    name = "roundtrips"
    subject = FILLS
    view = "roundtrips"

    def ddl(self, schema: str) -> list[str]:
        return [
            f"""CREATE TABLE {schema}.roundtrips (
                bot_id uuid NOT NULL,
                symbol text NOT NULL,
                number integer NOT NULL,
                market text NOT NULL CHECK (market IN ('spot', 'perp')),
                side text NOT NULL CHECK (side IN ('long', 'short')),
                entry_price numeric NOT NULL,
                exit_price numeric NOT NULL,
                qty numeric NOT NULL,
                pnl numeric NOT NULL,
                fees numeric NOT NULL,
                net_pnl numeric NOT NULL,
                opened_ms bigint NOT NULL,
                closed_ms bigint NOT NULL,
                close_version integer NOT NULL,
                PRIMARY KEY (bot_id, symbol, number)
            )""",
            books.ddl(schema),
        ]

    def state_version(self, state: TripsTail) -> int:
        return state.book.version

    def fold(self, state: TripsTail | None, event: Event) -> TripsTail:
        assert isinstance(event, Fill)
        book, trip = apply_trip(state.book if state else None, event)
        new = state.new if state else ()
        return TripsTail(book, (*new, trip) if trip else new)

    async def load(self, conn: asyncpg.Connection, schema: str, keys: Sequence[Key]) -> dict[Key, TripsTail]:
        return {k: TripsTail(b) for k, b in (await books.of_positions(conn, schema, keys)).items()}

    async def save(self, conn: asyncpg.Connection, schema: str, states: Mapping[Key, TripsTail]) -> None:
        await books.save(conn, schema, (s.book for s in states.values()))
        rows = [TABLE.row(trip) for state in states.values() for trip in state.new]
        if rows:  # a roundtrip closes once: an insert, never an update
            await conn.executemany(TABLE.insert(schema), rows)

    @property
    def order_by(self) -> str:
        return "bot_id, symbol, number"

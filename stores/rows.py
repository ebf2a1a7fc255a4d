"""Map a payload model to its append-only `trading.*_events` table: the columns are the model's fields.

The table holds every field but `schema_version` (the table is of one version), enums as their text;
so a payload's fields are written once, in `schemas/`, and the SQL here follows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Generic, TypeVar

import asyncpg

from registry.event import Event

E = TypeVar("E", bound=Event)


class EventTable(Generic[E]):
    """The event table `name` of payload model `model`."""

    def __init__(self, model: type[E], name: str) -> None:
        self.model = model
        self.name = name
        self.columns = tuple(f for f in model.model_fields if f != "schema_version")
        self.column_list = ", ".join(self.columns)
        """The columns for a SELECT whose rows `event` reads."""
        values = ", ".join(f"${i}" for i in range(1, len(self.columns) + 1))
        self.insert = f"INSERT INTO {name} ({self.column_list}) VALUES ({values})"

    def select(self, where: str = "", order_by: str = "version") -> str:
        """SELECT every column, `WHERE where` (if any) `ORDER BY order_by`."""
        condition = f" WHERE {where}" if where else ""
        return f"SELECT {self.column_list} FROM {self.name}{condition} ORDER BY {order_by}"

    def row(self, event: E) -> tuple[object, ...]:
        """The insert's arguments for `event`."""
        values = (getattr(event, c) for c in self.columns)
        return tuple(v.value if isinstance(v, Enum) else v for v in values)

    def event(self, record: asyncpg.Record) -> E:
        """The payload stored in `record` (a row of `select`)."""
        return self.model(**dict(record))

    async def append(self, tx: asyncpg.Connection, events: Iterable[E]) -> None:
        """Insert `events` (the caller holds the aggregate's head lock)."""
        rows = [self.row(e) for e in events]
        if rows:
            await tx.executemany(self.insert, rows)

"""Map a projection's state dataclass to its table: column list, upsert and select, enums as text."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, Generic, TypeVar

import asyncpg

T = TypeVar("T")


def _enum_fields(cls: type[Any]) -> dict[str, type[Enum]]:
    """Fields typed as an Enum (or an optional one), which the table stores as text."""
    found = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = [a for a in typing.get_args(hint) if a is not type(None)] if typing.get_args(hint) else [hint]
        kind = args[0] if len(args) == 1 else None
        if isinstance(kind, type) and issubclass(kind, Enum):
            found[name] = kind
    return found


class Table(Generic[T]):
    """The table of one state dataclass: its columns are the dataclass fields, in order."""

    def __init__(self, cls: type[T], name: str, key: Sequence[str]) -> None:
        self.cls = cls
        self.name = name
        self.key = tuple(key)
        self.columns = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        self._enums = _enum_fields(cls)
        self._types: tuple[str, ...] | None = None

    def upsert(self, schema: str) -> str:
        cols = ", ".join(self.columns)
        values = ", ".join(f"${i}" for i in range(1, len(self.columns) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.columns if c not in self.key)
        return (
            f"INSERT INTO {schema}.{self.name} ({cols}) VALUES ({values}) "
            f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {updates}"
        )

    def insert(self, schema: str) -> str:
        """A plain insert of one row (for append-only tables, where a conflict is a bug to see)."""
        values = ", ".join(f"${i}" for i in range(1, len(self.columns) + 1))
        return f"INSERT INTO {schema}.{self.name} ({', '.join(self.columns)}) VALUES ({values})"

    def select(self, schema: str) -> str:
        """Rows whose key is in `$1` (a single-column key) or whose key tuple is in `$1`/`$2`..."""
        cols = ", ".join(self.columns)
        if len(self.key) == 1:
            return f"SELECT {cols} FROM {schema}.{self.name} WHERE {self.key[0]} = ANY($1)"
        pairs = ", ".join(f"${i + 1}::{'uuid' if i == 0 else 'text'}[]" for i in range(len(self.key)))
        return (
            f"SELECT {cols} FROM {schema}.{self.name} "
            f"WHERE ({', '.join(self.key)}) IN (SELECT * FROM unnest({pairs}))"
        )

    def row(self, state: T) -> tuple[Any, ...]:
        values = []
        for name in self.columns:
            value = getattr(state, name)
            values.append(value.value if isinstance(value, Enum) else value)
        return tuple(values)

    def state(self, record: asyncpg.Record) -> T:
        values = dict(zip(self.columns, record, strict=True))
        for name, kind in self._enums.items():
            if values[name] is not None:
                values[name] = kind(values[name])
        return self.cls(**values)

    def bulk_upsert(self, schema: str, types: Sequence[str]) -> str:
        """The upsert of many rows in one statement: `$i` is the array of column i's values (one
        statement executes once, where `executemany` binds and executes every row on its own)."""
        cols = ", ".join(self.columns)
        arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, start=1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.columns if c not in self.key)
        return (
            f"INSERT INTO {schema}.{self.name} ({cols}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {updates}"
        )

    async def column_types(self, conn: asyncpg.Connection, schema: str) -> tuple[str, ...]:
        """The SQL types of the columns, in order, as the table declares them (read once: every
        generation's table comes from the same DDL)."""
        if self._types is None:
            records = await conn.fetch(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
                f"{schema}.{self.name}",
            )
            found: dict[str, str] = {r[0]: r[1] for r in records}
            self._types = tuple(found[c] for c in self.columns)
        return self._types

    async def save(self, conn: asyncpg.Connection, schema: str, states: Iterable[T]) -> None:
        """Upsert `states` in one statement (each key at most once, as a projection's changed states are)."""
        rows = [self.row(s) for s in states]
        if rows:
            types = await self.column_types(conn, schema)
            await conn.execute(self.bulk_upsert(schema, types), *(list(c) for c in zip(*rows, strict=True)))

"""Keyset pages newest first: ask the read model for one row more than the page holds; if it came, the
last row shown is where the next page starts (`nextCursor`). No offsets, so a page never shifts when rows
arrive meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import Query

T = TypeVar("T")

MAX_LIMIT = 500

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]
Cursor = Annotated[UUID | None, Query(description="the `nextCursor` of the previous page")]


def split_page(rows: Sequence[T], limit: int, key: Callable[[T], UUID]) -> tuple[list[T], str | None]:
    """The page's rows of up to `limit + 1` fetched, and the cursor of the next page (None: the last)."""
    more = len(rows) > limit
    return list(rows[:limit]), str(key(rows[limit - 1])) if more else None

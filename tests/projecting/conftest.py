"""Fixtures of the projection tests: the orders projection's live generation, read as its runner does."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest

from projections import generations
from projections.orders import OrdersProjection


@pytest.fixture
async def projector(database: str, dsn_for: Callable[[str, str], str]) -> str:
    """The orders projection's generation 1, created by the owner; the gordon_projector DSN its runner
    connects with."""
    conn = await asyncpg.connect(database)
    try:
        await generations.ensure_live(conn, OrdersProjection())
    finally:
        await conn.close()
    return dsn_for(database, "gordon_projector")

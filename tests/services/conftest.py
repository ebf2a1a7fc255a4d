"""Fixtures the service tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest


@pytest.fixture
async def owner(database: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the schema owner (the test database's superuser), closed after the test."""
    conn = await asyncpg.connect(database)
    try:
        yield conn
    finally:
        await conn.close()

"""Small helpers of the manager API tests: database reads and waiting for a condition."""

from __future__ import annotations

from typing import Any

import asyncpg


async def fetch(database: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()

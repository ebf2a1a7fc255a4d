"""What the dedicated PostgreSQL connections (the drain's leader lock, the bots' leases, the executor's
fence draws) share: the errors that mean the connection is gone, and closing one without hanging."""

from __future__ import annotations

import asyncio

import asyncpg

CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""Errors of a lost or failing connection: the server went away, the network did, or a call timed out."""

CLOSE_TIMEOUT_S = 2.0


async def close_quietly(conn: asyncpg.Connection | None, *last: str) -> None:
    """Run the `last` statements (e.g. unlocking), then close `conn` within `CLOSE_TIMEOUT_S`; a
    connection already gone, or one that does not answer in time, is terminated instead. Never raises
    a connection error: it is called on the way out."""
    if conn is None or conn.is_closed():
        return
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            for statement in last:
                await conn.execute(statement)
            await conn.close()
    except CONNECTION_ERRORS:
        conn.terminate()

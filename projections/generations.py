"""Generation schemas: each projection's tables live in `proj_<name>_<n>`; `trading.<view>` reads one.

A rebuild fills generation n+1 beside the live n, then swaps the view (views bind to a table, not
its name) and the registry row in one transaction. Creating and swapping generations needs the schema
owner; the runner role only writes rows into the live generation.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from projections.base import Projection
from settings import roles

VIEW_READERS = (roles.MANAGER, roles.RISK, roles.EXECUTOR, roles.BOT, roles.LAB_READER)

TRACKING = """
CREATE TABLE {schema}.tracking (
    id smallint PRIMARY KEY CHECK (id = 1),
    last_seq bigint NOT NULL DEFAULT 0,
    processed_seq bigint NOT NULL DEFAULT 0,
    halted_seq bigint,
    halted_reason text,
    updated_ms bigint NOT NULL DEFAULT 0
)
"""


def schema_of(projection: Projection[Any, Any], generation: int) -> str:
    """`proj_<name>_<generation>`."""
    return f"proj_{projection.name}_{generation}"


async def live_generation(conn: asyncpg.Connection, projection: Projection[Any, Any]) -> int | None:
    """The generation the views read, or None before the first one exists."""
    value = await conn.fetchval("SELECT generation FROM trading.projections WHERE name = $1", projection.name)
    return int(value) if value is not None else None


async def create(conn: asyncpg.Connection, projection: Projection[Any, Any], generation: int) -> str:
    """Create an empty generation (tables, tracking at sequence 0, grants); returns its schema."""
    schema = schema_of(projection, generation)
    async with conn.transaction():
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.execute(f"CREATE SCHEMA {schema}")
        for statement in [*projection.ddl(schema), TRACKING.format(schema=schema)]:
            await conn.execute(statement)
        await conn.execute(f"INSERT INTO {schema}.tracking (id) VALUES (1)")
        await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {roles.PROJECTOR}, {', '.join(VIEW_READERS)}")
        await conn.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {roles.PROJECTOR}"
        )
    return schema


async def point_views(conn: asyncpg.Connection, projection: Projection[Any, Any], generation: int) -> None:
    """Make `trading.<view>` read `generation` and record it (call inside the swap transaction)."""
    schema = schema_of(projection, generation)
    view = f"trading.{projection.view}"
    await conn.execute(f"DROP VIEW IF EXISTS {view}")
    await conn.execute(f"CREATE VIEW {view} AS SELECT * FROM {schema}.{projection.view}")
    await conn.execute(f"GRANT SELECT ON {view} TO {', '.join(VIEW_READERS)}")
    await conn.execute(
        """INSERT INTO trading.projections (name, generation, swapped_at_ms) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET generation = EXCLUDED.generation,
                                            swapped_at_ms = EXCLUDED.swapped_at_ms""",
        projection.name,
        generation,
        time.time_ns() // 1_000_000,
    )


async def ensure_live(conn: asyncpg.Connection, projection: Projection[Any, Any]) -> int:
    """The live generation, creating generation 1 and its view when there is none (idempotent)."""
    async with conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('gordon-projection-' || $1))", projection.name
        )
        live = await live_generation(conn, projection)
        if live is not None and await exists(conn, schema_of(projection, live)):
            return live
        generation = (live or 0) + 1
        await create(conn, projection, generation)
        await point_views(conn, projection, generation)
        return generation


async def exists(conn: asyncpg.Connection, schema: str) -> bool:
    return bool(await conn.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema))


async def drop(conn: asyncpg.Connection, projection: Projection[Any, Any], generation: int) -> None:
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema_of(projection, generation)} CASCADE")

"""The shared fixtures keep their promises: isolated databases, a migrated clone, other roles,
and streams that forget their Msg-Ids when made fresh."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.js.api import StreamConfig

USER_TABLES = """
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""


async def test_empty_database_is_new_and_empty(empty_database: str, admin_dsn: str) -> None:
    connection = await asyncpg.connect(empty_database)
    try:
        assert await connection.fetchval(USER_TABLES) == 0
        assert await connection.fetchval("SELECT current_database()") != "postgres"
        await connection.execute("CREATE TABLE only_here (n int)")
    finally:
        await connection.close()
    admin = await asyncpg.connect(admin_dsn)
    try:
        assert await admin.fetchval("SELECT to_regclass('only_here')") is None
    finally:
        await admin.close()


async def test_database_is_a_migrated_clone(database: str, template_database: str) -> None:
    connection = await asyncpg.connect(database)
    try:
        assert await connection.fetchval(USER_TABLES) > 0
        name = await connection.fetchval("SELECT current_database()")
        assert name != template_database
        assert await connection.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    finally:
        await connection.close()


async def test_dsn_for_logs_in_as_another_role(
    empty_database: str, dsn_for: Callable[[str, str], str]
) -> None:
    admin = await asyncpg.connect(empty_database)
    try:
        await admin.execute(
            "DO $$ BEGIN CREATE ROLE fixture_probe LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    finally:
        await admin.close()
    connection = await asyncpg.connect(dsn_for(empty_database, "fixture_probe"))
    try:
        assert await connection.fetchval("SELECT current_user") == "fixture_probe"
    finally:
        await connection.close()


async def test_fresh_stream_forgets_msg_ids(
    nats: NatsClient, fresh_stream: Callable[[StreamConfig], Awaitable[None]]
) -> None:
    config = StreamConfig(name="fixture-probe", subjects=["fixture.probe.>"], duplicate_window=60)
    jetstream = nats.jetstream()
    await fresh_stream(config)
    first = await jetstream.publish("fixture.probe.a", b"x", headers={"Nats-Msg-Id": "same"})
    again = await jetstream.publish("fixture.probe.a", b"x", headers={"Nats-Msg-Id": "same"})
    assert not first.duplicate
    assert again.duplicate

    await fresh_stream(config)
    after = await jetstream.publish("fixture.probe.a", b"x", headers={"Nats-Msg-Id": "same"})
    assert not after.duplicate
    assert (await jetstream.stream_info("fixture-probe")).state.messages == 1

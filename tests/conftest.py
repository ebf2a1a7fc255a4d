"""Shared fixtures: real NATS and PostgreSQL servers, fresh databases and streams per test.

Servers are embedded (started once per session on free ports) unless GORDON_NATS_URL or
GORDON_DATABASE_URL name existing ones. Session setup is synchronous and runs its own event
loop; tests and function fixtures run on pytest-asyncio's function-scoped loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, Protocol, TypeVar

import asyncpg
import nats as nats_py
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from gordon.migrate import upgrade
from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.postgres_server import EmbeddedPostgres
from registry.streams import MIB, StreamSpec
from schemas import REGISTRY
from settings.dsn import ExternalPostgres, with_database, with_user
from settings.environment import DATA_DIR, DATABASE_URL, NATS_URL, SERVICE_PORTS, WORKERS_PORT, port_variable

T = TypeVar("T")


class PostgresServer(Protocol):
    """What tests need of a server: URLs for a user (default: superuser) and a database."""

    def dsn(self, user: str | None = None, database: str = "postgres") -> str: ...


def pytest_configure(config: pytest.Config) -> None:
    """Tests never see a developer's `gordon up`: its endpoints file (and passwords) live in the data
    directory, so each session gets an empty one of its own unless a test sets another."""
    import tempfile

    os.environ[DATA_DIR] = tempfile.mkdtemp(prefix="gordon-test-data-")
    # Services started by tests listen on free ports, never the fixed defaults (8081..8086): a
    # developer's `make run` or a parallel test would hold those.
    for name in SERVICE_PORTS:
        os.environ.setdefault(port_variable(name), "0")
    os.environ.setdefault(WORKERS_PORT, "0")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on a private loop, leaving the thread's current loop untouched."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


async def execute(dsn: str, *statements: str) -> None:
    """Run `statements` one by one on a short-lived connection (CREATE DATABASE cannot run
    inside a transaction block, so no transaction is opened)."""
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def unique_name(prefix: str) -> str:
    """A database name no other test (or test session on the same server) uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def _drop(admin_dsn: str, name: str) -> None:
    # FORCE terminates the connections a test left open.
    run_sync(execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """The session's PostgreSQL: GORDON_DATABASE_URL's server, else an embedded one (fsync off)."""
    url = os.environ.get(DATABASE_URL, "").strip()
    if url:
        yield ExternalPostgres(url)
        return
    with EmbeddedPostgres(tmp_path_factory.mktemp("postgres"), fsync=False) as server:
        yield server


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's NATS (JetStream on): GORDON_NATS_URL, else an embedded nats-server."""
    url = os.environ.get(NATS_URL, "").strip()
    if url:
        yield url
        return
    with EmbeddedNats(tmp_path_factory.mktemp("nats")) as server:
        yield server.url


@pytest.fixture(scope="session")
def admin_dsn(postgres_server: PostgresServer) -> str:
    """Superuser DSN to the `postgres` database."""
    return postgres_server.dsn(database="postgres")


@pytest.fixture(scope="session")
def dsn_for() -> Callable[[str, str], str]:
    """`dsn_for(dsn, role)`: the same DSN logging in as `role` (trust auth, no password)."""
    return with_user


@pytest.fixture
def empty_database(admin_dsn: str) -> Iterator[str]:
    """Superuser DSN of a brand-new empty database, dropped after the test."""
    name = unique_name("test_empty")
    run_sync(execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(admin_dsn, name)
    finally:
        _drop(admin_dsn, name)


@pytest.fixture(scope="session")
def template_database(admin_dsn: str) -> Iterator[str]:
    """Name of a database migrated to head once per session, the source of `database` clones.

    It refuses connections once migrated: cloning needs a template nobody is connected to.
    """
    name = unique_name("test_template")
    run_sync(execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    try:
        upgrade(with_database(admin_dsn, name))
        run_sync(
            execute(
                admin_dsn,
                f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false',
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
            )
        )
        yield name
    finally:
        run_sync(execute(admin_dsn, f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false'))
        _drop(admin_dsn, name)


@pytest.fixture
def database(admin_dsn: str, template_database: str) -> Iterator[str]:
    """Superuser DSN of a fresh clone of the migrated template, dropped after the test."""
    name = unique_name("test_db")
    statement = f'CREATE DATABASE "{name}" TEMPLATE "{template_database}" STRATEGY FILE_COPY'
    run_sync(execute(admin_dsn, statement))
    try:
        yield with_database(admin_dsn, name)
    finally:
        _drop(admin_dsn, name)


@pytest.fixture
async def nats(nats_url: str) -> AsyncIterator[NatsClient]:
    """A connected nats-py client, closed after the test."""
    client = await nats_py.connect(nats_url, connect_timeout=5, max_reconnect_attempts=3)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def fresh_stream(nats: NatsClient) -> Callable[[StreamConfig], Awaitable[None]]:
    """`await fresh_stream(config)`: delete the stream if it exists, then create it. Never a
    purge: a purged stream still remembers the Msg-Ids in its duplicate window."""
    jetstream = nats.jetstream()

    async def fresh(config: StreamConfig) -> None:
        if not config.name:
            raise ValueError("fresh_stream needs a StreamConfig with a name")
        with contextlib.suppress(NotFoundError):
            await jetstream.delete_stream(config.name)
        await jetstream.add_stream(config)

    return fresh


TEST_MAX_BYTES = 64 * MIB


def small_spec(spec: StreamSpec) -> StreamSpec:
    """`spec` as tests run it: deletable, and capped at 64 MiB so any disk can hold it."""
    return dataclasses.replace(spec, deny_delete=False, max_bytes=min(spec.max_bytes, TEST_MAX_BYTES))


@pytest.fixture
def fresh_bus(fresh_stream: Callable[[StreamConfig], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """`await fresh_bus()`: delete and recreate gordon-bus, gordon-history and gordon-dlq."""

    async def fresh() -> None:
        for spec in REGISTRY.streams:
            await fresh_stream(small_spec(spec).config())

    return fresh

"""Migrations against real PostgreSQL: round trips, idempotence, a second database in the cluster,
drift between the revisions and the SQLAlchemy metadata, and `gordon migrate` as a process."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gordon import migrate
from migrations.tables import SCHEMAS, metadata
from migrations.tables.base import Xid8
from settings import roles

FIRST = "0001"
HEAD = ScriptDirectory(str(migrate.MIGRATIONS_DIR)).get_current_head()

FINGERPRINT_SQL = """
SELECT 'class', n.nspname || '.' || c.relname, c.oid::text || ':' || c.relfilenode::text
       || ':' || coalesce(c.relacl::text, '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
UNION ALL
SELECT 'schema', nspname, oid::text || ':' || coalesce(nspacl::text, '')
FROM pg_namespace WHERE nspname = ANY(%(schemas)s) OR nspname = 'public'
UNION ALL
SELECT 'column-acl', attrelid::regclass::text || '.' || attname, attacl::text
FROM pg_attribute WHERE attacl IS NOT NULL
UNION ALL
SELECT 'default-acl', coalesce(n.nspname, '*') || ':' || d.defaclobjtype::text, d.defaclacl::text
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
UNION ALL
SELECT 'version', 'alembic', version_num FROM public.alembic_version
ORDER BY 1, 2
"""


def query(dsn: str, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of one statement run as the DSN's user."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(sql.encode(), params).fetchall()


def execute(dsn: str, sql: str) -> None:
    """Run one statement that returns no rows, as the DSN's user."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.encode())


def fingerprint(dsn: str) -> list[tuple[Any, ...]]:
    """Every object, OID, file node and ACL the migrations own: any re-creation changes it."""
    return query(dsn, FINGERPRINT_SQL, {"schemas": list(SCHEMAS)})


def schemas_present(dsn: str) -> set[str]:
    rows = query(
        dsn,
        "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%(s)s)",
        {"s": list(SCHEMAS)},
    )
    return {row[0] for row in rows}


def roles_present(dsn: str) -> set[str]:
    rows = query(dsn, "SELECT rolname FROM pg_roles WHERE rolname = ANY(%(r)s)", {"r": list(roles.ALL_ROLES)})
    return {row[0] for row in rows}


def version(dsn: str) -> str | None:
    rows = query(dsn, "SELECT to_regclass('public.alembic_version')::text")
    if rows[0][0] is None:
        return None
    versions = query(dsn, "SELECT version_num FROM public.alembic_version")
    return versions[0][0] if versions else None


def test_round_trip_upgrade_downgrade_upgrade(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert version(empty_database) == HEAD
    assert schemas_present(empty_database) == set(SCHEMAS)
    assert roles_present(empty_database) == set(roles.ALL_ROLES)
    first = {row[:2] for row in fingerprint(empty_database)}

    migrate.downgrade(empty_database)
    assert version(empty_database) is None
    assert schemas_present(empty_database) == set()
    assert roles_present(empty_database) == set(roles.ALL_ROLES), "roles are never dropped"

    migrate.upgrade(empty_database)
    assert version(empty_database) == HEAD
    assert {row[:2] for row in fingerprint(empty_database)} == first


def test_upgrade_twice_changes_nothing(empty_database: str) -> None:
    migrate.upgrade(empty_database, "head")
    before = fingerprint(empty_database)
    migrate.upgrade(empty_database, "head")
    assert fingerprint(empty_database) == before


def test_second_database_in_the_cluster_migrates_with_existing_roles(
    database: str, empty_database: str, admin_dsn: str
) -> None:
    assert roles_present(admin_dsn) == set(roles.ALL_ROLES), "the template made them already"
    migrate.upgrade(empty_database)
    assert version(empty_database) == HEAD
    grants = query(
        empty_database,
        "SELECT has_table_privilege(%(r)s, 'market_data.v_klines_reader', 'SELECT'), "
        "has_table_privilege(%(r)s, 'market_data.spot_klines', 'SELECT'), "
        "has_any_column_privilege(%(r)s, 'bus.outbox', 'INSERT')",
        {"r": roles.BOT},
    )
    assert grants == [(True, False, True)]


def test_concurrent_runs_in_one_process_take_turns(empty_database: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate.upgrade(empty_database)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert version(empty_database) == HEAD


def test_migrated_schema_matches_the_metadata(database: str) -> None:
    engine = sa.create_engine(migrate.sync_url(database), poolclass=sa.pool.NullPool)
    # SQLAlchemy does not know xid8; teach this engine's dialect only.
    dialect: Any = engine.dialect
    dialect.ischema_names = {**dialect.ischema_names, "xid8": Xid8}
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_schemas": True,
                    "include_name": lambda name, kind, _: kind != "schema" or name in SCHEMAS,
                    "compare_type": True,
                    "compare_server_default": True,
                },
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_failing_revision_is_named_and_rolled_back(empty_database: str) -> None:
    execute(empty_database, "CREATE SCHEMA bus")
    with pytest.raises(migrate.MigrationError) as caught:
        migrate.upgrade(empty_database)
    assert caught.value.revision == FIRST
    message = str(caught.value)
    assert "\n" not in message
    assert f"revision {FIRST}" in message
    assert "already exists" in message
    assert version(empty_database) is None
    assert schemas_present(empty_database) == {"bus"}, "the whole upgrade rolled back"


def test_failing_downgrade_is_named(database: str) -> None:
    execute(database, "CREATE TABLE trading.not_from_a_migration (i int)")
    with pytest.raises(migrate.MigrationError) as caught:
        migrate.downgrade(database)
    assert caught.value.revision == FIRST
    assert version(database) == HEAD


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port that is bound but not listening, so connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_unreachable_database_is_one_line(closed_port: int) -> None:
    with pytest.raises(migrate.MigrationError) as caught:
        migrate.upgrade(f"postgresql://gordon:s3cret@127.0.0.1:{closed_port}/gordon")
    assert caught.value.revision is None
    assert "\n" not in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert f"127.0.0.1:{closed_port}" in str(caught.value)


@pytest.mark.parametrize("dsn", ["mysql://u@127.0.0.1/db", "not a url", "postgresql://u@h:x/db"])
def test_bad_url_is_refused(dsn: str) -> None:
    with pytest.raises(migrate.MigrationError, match="URL"):
        migrate.upgrade(dsn)


def test_unknown_revision_is_named(empty_database: str) -> None:
    with pytest.raises(migrate.MigrationError) as caught:
        migrate.upgrade(empty_database, "nope")
    assert caught.value.revision == "nope"


def gordon_migrate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `gordon migrate` as an operator would, from an unrelated working directory."""
    command = [str(Path(sys.executable).with_name("gordon")), "migrate", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, env=env, cwd="/", check=False)


def test_cli_migrates_a_fresh_database(empty_database: str) -> None:
    result = gordon_migrate(env={"GORDON_DATABASE_URL": empty_database, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert version(empty_database) == HEAD


def test_cli_concurrent_runs_on_one_database_take_turns(empty_database: str) -> None:
    command = [str(Path(sys.executable).with_name("gordon")), "migrate"]
    runs = [
        subprocess.Popen(
            [*command, "--database-url", empty_database],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [run.communicate(timeout=90) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], results
    assert version(empty_database) == HEAD


def test_cli_unreachable_database_is_one_line_exit_1(closed_port: int) -> None:
    result = gordon_migrate("--database-url", f"postgresql://gordon@127.0.0.1:{closed_port}/x")
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert (
        f"cannot reach the PostgreSQL server at postgresql://gordon@127.0.0.1:{closed_port}/x: "
        in result.stderr
    )


def test_cli_failing_revision_is_one_line_exit_1(empty_database: str) -> None:
    execute(empty_database, "CREATE SCHEMA market_data")
    result = gordon_migrate("--database-url", empty_database)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert f"revision {FIRST} failed" in result.stderr
    assert "market_data" in result.stderr

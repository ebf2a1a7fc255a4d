"""Alembic environment: runs revisions on the connection `gordon.migrate` hands over.

There is no alembic.ini; `gordon.migrate` builds the config in code, so migrations run from an
installed package and any working directory. Runs are serialised per database by an advisory lock.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, text

from migrations import outbox_policies
from migrations.tables import SCHEMAS, metadata
from schemas import REGISTRY

MIGRATION_LOCK_KEY = 0x676F72646F6E  # "gordon": two concurrent `gordon migrate` runs take turns
VERSION_TABLE_SCHEMA = "public"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate and drift checks look only at the schemas the migrations own."""
    if type_ == "schema":
        return name in SCHEMAS
    return True


def run_on(connection: Connection) -> None:
    """Run the pending revisions on `connection` inside one transaction."""
    options: dict[str, Any] = context.config.attributes.get("configure_options", {})
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_schemas=True,
        include_name=include_name,
        version_table_schema=VERSION_TABLE_SCHEMA,
        transaction_per_migration=False,
        **options,
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()
        # Repeatable step: the registry's outbox policies, current whatever revision ran (or none).
        outbox_policies.sync(connection, REGISTRY)


def main() -> None:
    """Entry point alembic calls when it loads this file."""
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) mode is not supported: run against a database")
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through gordon.migrate, which provides the connection")
    run_on(connection)


main()

"""Apply or undo the alembic revisions in `migrations/` against a PostgreSQL URL.

The alembic config is built in code (no alembic.ini), so this works from an installed package and
any working directory. Alembic runs on psycopg 3 (sync); services keep asyncpg.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

import migrations
from settings.environment import DATABASE_URL, unreachable
from settings.errors import GordonError

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
SYNC_DRIVER = "postgresql+psycopg"
ACCEPTED_SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT_S = 10

# Alembic keeps the running environment in module globals: one run per process at a time.
# Runs in different processes are serialised per database by an advisory lock (see env.py).
_ALEMBIC = threading.Lock()


class MigrationError(GordonError):
    """A migration run failed; `revision` names the failing revision (None if none was reached)."""

    def __init__(self, message: str, revision: str | None = None) -> None:
        super().__init__(message)
        self.revision = revision


def upgrade(dsn: str, revision: str = "head") -> None:
    """Apply every revision up to `revision` (default: the newest)."""
    _run(dsn, revision, command.upgrade, is_upgrade=True)


def downgrade(dsn: str, revision: str = "base") -> None:
    """Undo revisions down to `revision` (default: all). Roles are never dropped."""
    _run(dsn, revision, command.downgrade, is_upgrade=False)


def sync_url(dsn: str) -> URL:
    """Parse a postgresql:// (or postgres://, +asyncpg, +psycopg) DSN into a psycopg 3 URL."""
    try:
        url = make_url(dsn)
    except (sa.exc.ArgumentError, ValueError):
        raise MigrationError("database URL is not a valid URL (expected postgresql://...)") from None
    backend = url.drivername.split("+", 1)[0]
    if backend not in ACCEPTED_SCHEMES:
        raise MigrationError(
            f"database URL scheme {url.drivername!r} is not PostgreSQL (expected postgresql://...)"
        )
    return url.set(drivername=SYNC_DRIVER)


def alembic_config() -> Config:
    """The alembic configuration, pointing at the packaged `migrations/` directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def _run(dsn: str, target: str, action: Callable[[Config, str], None], *, is_upgrade: bool) -> None:
    url = sync_url(dsn)
    config = alembic_config()
    applied: list[str] = []
    config.attributes["configure_options"] = {"on_version_apply": _recorder(applied)}
    shown = url.set(drivername="postgresql").render_as_string(hide_password=True)
    with _connected(url, shown) as connection:
        config.attributes["connection"] = connection
        try:
            with _ALEMBIC:
                action(config, target)
        except CommandError as error:
            raise MigrationError(f"revision {target}: {_one_line(error)}", target) from None
        except Exception as error:
            failing = _failing_revision(connection, config, target, applied, is_upgrade)
            raise MigrationError(
                f"revision {failing or target} failed: {_cause(error)}", failing or target
            ) from error


def _recorder(applied: list[str]) -> Callable[..., None]:
    """An `on_version_apply` hook noting each revision once it has run (up or down)."""

    def record(*, ctx: MigrationContext, step: MigrationInfo, **_: Any) -> None:
        if step.up_revision_id is not None:
            applied.append(step.up_revision_id)

    return record


@contextmanager
def _connected(url: URL, shown: str) -> Iterator[sa.Connection]:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        try:
            connection = engine.connect()
        except Exception as error:
            raise MigrationError(unreachable(DATABASE_URL, shown, _origin(error))) from None
        with connection:
            yield connection
    finally:
        engine.dispose()


def _failing_revision(
    connection: sa.Connection, config: Config, target: str, applied: list[str], is_upgrade: bool
) -> str | None:
    """The revision that was running: the first one on the path not yet reported as run."""
    try:
        if connection.in_transaction():
            connection.rollback()
        current = MigrationContext.configure(
            connection, opts={"version_table_schema": "public"}
        ).get_current_heads()
        script = ScriptDirectory.from_config(config)
        if is_upgrade:
            path = list(script.iterate_revisions(target, current or "base"))
            path.reverse()
        else:
            path = list(script.iterate_revisions(current or "base", target))
        pending = [rev.revision for rev in path if rev is not None]
    except Exception:
        return None
    remaining = [rev for rev in pending if rev not in applied]
    return remaining[0] if remaining else None


def _origin(error: BaseException) -> BaseException:
    """The driver's error SQLAlchemy wrapped (its message has no SQL and no traceback)."""
    return error.orig if isinstance(error, sa.exc.DBAPIError) and error.orig else error


def _cause(error: BaseException) -> str:
    """One line naming the error class and its first message line (no SQL, no traceback)."""
    origin = _origin(error)
    return f"{type(origin).__name__}: {_one_line(origin)}"


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__

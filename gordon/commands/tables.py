"""`gordon tables`: every table of market_data and trading with its row count and newest time, read as
gordon_drift_reader (SELECT only) on the server of $GORDON_DATABASE_URL or the running `gordon up`."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

import asyncpg

from gordon import tables
from settings import roles
from settings.dsn import with_user
from settings.environment import DATABASE_URL, Settings, unreachable
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `tables` with its --schema, --cap, --format and --database-url options."""
    parser = subparsers.add_parser(
        "tables",
        help="row counts and newest times of every market_data and trading table (read-only)",
        description="One row per table of the schemas, found in the catalog: rows (exact up to --cap, "
        "else shown as CAP+), the time column (the first BIGINT *_ms column of the primary key, else "
        "ts_ms, else the first BIGINT *_ms column that is not a *window_ms duration), its newest value "
        f"and its age by the server's clock. Connects as {roles.DRIFT_READER}.",
    )
    parser.add_argument(
        "--schema",
        action="append",
        choices=tables.SCHEMAS,
        help="only this schema (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--cap",
        type=_positive,
        default=tables.DEFAULT_CAP,
        metavar="N",
        help=f"count at most N rows of a table (default {tables.DEFAULT_CAP})",
    )
    parser.add_argument("--format", choices=("text", "csv", "json"), default="text")
    parser.add_argument("--database-url", metavar="URL", help=f"postgresql:// URL (default: ${DATABASE_URL})")
    parser.set_defaults(handler=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def reader_url(database_url: str | None = None) -> str:
    """The drift reader's URL on the server `database_url` (default: $GORDON_DATABASE_URL or the
    running `gordon up`'s); GordonError in the one wording when there is none."""
    settings = Settings.from_env()
    url = database_url or settings.database_url
    if not url:
        raise GordonError(settings.not_set(DATABASE_URL, "the table counts", "--database-url"))
    return with_user(url, roles.DRIFT_READER)


async def connect(url: str) -> asyncpg.Connection:
    """A connection to `url`; an unreachable server is one line."""
    try:
        return await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise GordonError(unreachable(DATABASE_URL, url, exc)) from None


async def read(url: str, schemas: tuple[str, ...], cap: int) -> list[tables.TableRow]:
    """The survey of `schemas` on `url`."""
    conn = await connect(url)
    try:
        return await tables.survey(conn, schemas, cap)
    finally:
        await conn.close()


def run(args: argparse.Namespace) -> int:
    """Print the tables in the chosen format."""
    schemas = tuple(s for s in tables.SCHEMAS if s in args.schema) if args.schema else tables.SCHEMAS
    rows = asyncio.run(read(reader_url(args.database_url), schemas, args.cap))
    if args.format == "text":
        print(tables.text(rows))
    elif args.format == "csv":
        print(tables.frame(rows).write_csv(), end="")
    else:
        print(tables.frame(rows).write_json())
    return 0

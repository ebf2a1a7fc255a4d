"""`gordon migrate`: apply every schema migration to the database, then exit 0 (or 1, one line)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gordon import migrate
from settings.environment import DATABASE_URL, Settings, redact_password
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `migrate` subcommand; its handler is `run`."""
    parser = subparsers.add_parser(
        "migrate",
        help="apply the database migrations (schemas, roles, grants, views)",
        description="Apply every migration up to --revision, then exit 0; on failure print one "
        "line naming the failing revision and the cause, and exit 1.",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help=f"postgresql:// URL of a role allowed to create schemas and roles (default: ${DATABASE_URL})",
    )
    parser.add_argument("--revision", default="head", help="revision to reach (default: head)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Migrate, print one line saying where the database is; errors raise `GordonError`."""
    settings = Settings.from_env()
    url: str | None = args.database_url or settings.database_url
    if not url:
        raise GordonError(settings.not_set(DATABASE_URL, "the migrations", "--database-url"))
    migrate.upgrade(url, args.revision)
    print(f"gordon migrate: {redact_password(url)} is at {args.revision}")
    return 0

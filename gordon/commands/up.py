"""`gordon up`: start (or use) NATS and Postgres, migrate, serve until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gordon.settings import Settings
from gordon.up import up

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `up` subcommand."""
    parser = subparsers.add_parser(
        "up",
        help="start NATS and Postgres (embedded when GORDON_*_URL is unset), migrate, serve",
        description="Start NATS and PostgreSQL, or use GORDON_NATS_URL / GORDON_DATABASE_URL "
        "when set; embedded servers keep their data in GORDON_DATA_DIR (default .data). "
        "Runs migrations, prints one ready line, and stops cleanly on SIGINT/SIGTERM.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run `gordon up` with settings from the environment."""
    del args
    return up(Settings.from_env())

"""`gordon up`: start (or use) NATS and Postgres, migrate, run the platform until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from gordon.services import NAMES
from gordon.up import http_plan, platform_services, up
from settings.environment import Settings

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `up` subcommand."""
    parser = subparsers.add_parser(
        "up",
        help="start NATS and Postgres (embedded when GORDON_*_URL is unset), migrate, run the platform",
        description="Start NATS and PostgreSQL, or use GORDON_NATS_URL / GORDON_DATABASE_URL "
        "when set; embedded servers keep their data in GORDON_DATA_DIR (default .data). "
        "Runs migrations, creates the streams and projections, prints one ready line, runs the drain, "
        "the projection runners and the services, and stops cleanly on SIGINT/SIGTERM.",
    )
    parser.add_argument(
        "--services",
        type=_services,
        default=NAMES,
        help=f"comma-separated subset of {','.join(NAMES)} (default: all); 'none' runs only the bus",
    )
    parser.add_argument("--demo", action="store_true", help="a fast simulated kline feed and two demo bots")
    parser.add_argument(
        "--view",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the live terminal view (default: on when stdout is a terminal)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="run the embedded NATS without authorization (for debugging; says so at start)",
    )
    parser.set_defaults(handler=run)


def _services(text: str) -> tuple[str, ...]:
    if text == "none":
        return ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown service {', '.join(unknown) or text!r} (known: {','.join(NAMES)})"
        )
    return names


def run(args: argparse.Namespace) -> int:
    """Run `gordon up` with settings from the environment."""
    view = sys.stdout.isatty() if args.view is None else args.view
    http = http_plan(args.services, Settings.from_env(use_running=False))
    services = platform_services(args.services, demo=args.demo, view=view, http=http)
    settings = Settings.from_env(use_running=False)  # it starts the servers an endpoints file names
    return up(settings, services, demo=args.demo, secure=not args.insecure, http=http)

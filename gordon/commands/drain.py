"""`gordon drain`: run one outbox drain process (many may run; one leads)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from settings.environment import DATABASE_URL, NATS_URL, Settings
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `drain` subcommand."""
    parser = subparsers.add_parser(
        "drain",
        help="forward bus.outbox to JetStream (leader-elected; run several for failover)",
        description=f"Run an outbox drain against {NATS_URL} and {DATABASE_URL} (or the options). "
        "Drains elect one leader with a Postgres advisory lock; the others stand by. "
        "Stops cleanly on SIGINT/SIGTERM.",
    )
    parser.add_argument("--nats-url", help=f"NATS URL (default: ${NATS_URL})")
    parser.add_argument(
        "--database-url", help=f"PostgreSQL URL of the drain's role (default: ${DATABASE_URL})"
    )
    parser.add_argument("--batch-size", type=_positive, default=1000, help="rows per pipelined batch")
    parser.set_defaults(handler=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def run(args: argparse.Namespace) -> int:
    """Drain until a signal arrives."""
    from producers.drain.config import DrainConfig
    from producers.drain.runner import run_drain

    settings = Settings.from_env()
    nats_url = args.nats_url or settings.nats_url
    database_url = args.database_url or settings.database_url
    if not nats_url or not database_url:
        missing = NATS_URL if not nats_url else DATABASE_URL
        option = "--" + missing.removeprefix("GORDON_").lower().replace("_", "-")
        raise GordonError(settings.not_set(missing, "the drain", option))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_drain(nats_url, database_url, stop, DrainConfig(batch_size=args.batch_size))

    asyncio.run(main())
    return 0

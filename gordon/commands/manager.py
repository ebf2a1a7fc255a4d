"""`gordon manager [--host H] [--port P]`: the manager service and its HTTP API until SIGINT/SIGTERM.

The service (its durables on risk events, orders and fills) runs as gordon_manager; the API is served by
granian on the same event loop (see services/manager/api/serve.py). A bad or taken port is one line,
exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

import asyncpg
import nats.errors

from settings.environment import (
    DATABASE_URL,
    DEFAULT_MANAGER_HOST,
    MANAGER_HOST,
    MANAGER_PORT,
    MANAGER_TOKEN,
    NATS_URL,
    Settings,
    SettingsError,
    parse_port,
)
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `manager` subcommand."""
    parser = subparsers.add_parser(
        "manager",
        help="run the manager service and its HTTP API (orders, positions, risk, health, metrics)",
        description=f"Run the manager service against {NATS_URL} and {DATABASE_URL} (the schema owner's "
        f"URL; it connects as gordon_manager) and serve its HTTP API. Write endpoints need {MANAGER_TOKEN}. "
        "Stops cleanly on SIGINT/SIGTERM.",
    )
    parser.add_argument(
        "--host",
        default=None,
        help=f"address to listen on (default: ${MANAGER_HOST} or {DEFAULT_MANAGER_HOST})",
    )
    parser.add_argument(
        "--port", default=None, help=f"TCP port (default: ${MANAGER_PORT} or 8080; 0: any free)"
    )
    parser.add_argument("--nats-url", help=f"NATS URL (default: ${NATS_URL})")
    parser.add_argument(
        "--database-url", help=f"PostgreSQL URL of the schema owner (default: ${DATABASE_URL})"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until a signal arrives."""
    settings = Settings.from_env()
    try:
        port = settings.manager_port if args.port is None else parse_port("--port", args.port)
    except SettingsError as error:
        raise GordonError(str(error)) from None
    host = args.host or settings.manager_host
    nats_url = args.nats_url or settings.nats_url
    database_url = args.database_url or settings.database_url
    if not nats_url or not database_url:
        missing = NATS_URL if not nats_url else DATABASE_URL
        option = "--" + missing.removeprefix("GORDON_").lower().replace("_", "-")
        raise GordonError(settings.not_set(missing, "the manager", option))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(_serve(nats_url, database_url, host, port, settings.manager_token))
    return 0


async def _serve(nats_url: str, database_url: str, host: str, port: int, token: str | None) -> None:
    from services.http_server import check_port
    from services.manager.api.attach import attach
    from services.manager.service import build

    if port:
        check_port(host, port)  # before connecting anywhere: a taken port is the likeliest mistake
    service = build(nats_url=nats_url, database_url=database_url)
    attach(service, host=host, port=port, token=token, announce=_announce)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            await service.app.start()
        except (OSError, TimeoutError, asyncpg.PostgresError, nats.errors.Error) as exc:
            raise GordonError(f"the manager did not start: {type(exc).__name__}: {exc}") from None
        await stop.wait()
    finally:
        await service.app.stop()


def _announce(line: str) -> None:
    print(f"gordon manager: {line}", file=sys.stderr, flush=True)

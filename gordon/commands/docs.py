"""`gordon docs`: serve the AsyncAPI docs browser alone (granian), with no NATS or Postgres."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import TYPE_CHECKING

from settings.environment import parse_port

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gordon.commands import Subparsers

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
"""Clear of the services' 8081..8086, so it can run beside `make run`."""
PAGE = "/docs/asyncapi"


def register(subparsers: Subparsers) -> None:
    """Add the `docs` subcommand."""
    from registry.asyncapi import DEFAULT_NATS_HOST

    parser = subparsers.add_parser(
        "docs",
        help="serve the AsyncAPI docs browser alone (needs no NATS or Postgres)",
        description=f"Serve {PAGE}: the AsyncAPI document generated from the registry, rendered by the "
        "vendored @asyncapi/react-component; every file comes from this server. The manager API "
        "serves the same page. Stops on SIGINT/SIGTERM.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", default=str(DEFAULT_PORT), metavar="PORT", help=f"TCP port (default: {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--nats-host",
        default=DEFAULT_NATS_HOST,
        metavar="HOST:PORT",
        help=f"host of the document's NATS server entry (default: {DEFAULT_NATS_HOST})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the address, build the docs app, serve it until a signal."""
    from services.http_server import check_port
    from services.manager.api.docs import create_docs_app

    port = parse_port("--port", args.port, allow_any=False)
    check_port(args.host, port)
    app = create_docs_app(args.nats_host)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"gordon docs: serving http://{host}:{port}{PAGE} (Ctrl-C stops)", flush=True)
    asyncio.run(serve(app, args.host, port))
    return 0


async def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` with granian's embedded server on this loop until SIGINT or SIGTERM."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server.embed import Server

    server = Server(app, address=host, port=port, interface=Interfaces.ASGI, log_level=LogLevels.error)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.stop)
    await server.serve()

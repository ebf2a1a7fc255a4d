"""`gordon nats-auth [--check] [--output PATH]`: write, or check, the nats-server authorization block."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `nats-auth` subcommand."""
    parser = subparsers.add_parser(
        "nats-auth",
        help="generate the nats-server authorization config (one user per service) from the registry",
        description="Write the nats-server authorization block generated from the registry (default: "
        "config/nats-auth.conf, or --output, or - for stdout). Passwords stay out of it: each user's is "
        "$GORDON_NATS_PASSWORD_<USER>, resolved by nats-server from its environment. With --check, "
        "write nothing and exit 1 when the file is stale.",
    )
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    parser.add_argument("--output", metavar="PATH", help="where to write (default: config/nats-auth.conf)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Render, write or check the config."""
    from gordon import nats_auth
    from gordon.generated_file import write_or_check
    from schemas import REGISTRY

    return write_or_check(
        args,
        "nats-auth",
        nats_auth.CONFIG_PATH,
        lambda: nats_auth.render(REGISTRY),
        lambda path: nats_auth.write(REGISTRY, path),
        lambda path, shown: nats_auth.stale(REGISTRY, path, shown),
    )

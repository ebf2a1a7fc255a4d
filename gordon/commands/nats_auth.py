"""`gordon nats-auth [--check] [--output PATH]`: write, or check, the nats-server authorization block."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gordon.paths import ROOT

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
    from schemas import REGISTRY

    if args.output == "-":
        if args.check:
            print("gordon nats-auth: --check needs a file, not stdout", file=sys.stderr)
            return 1
        sys.stdout.write(nats_auth.render(REGISTRY))
        return 0
    path = Path(args.output) if args.output else ROOT / nats_auth.CONFIG_PATH
    shown = args.output or nats_auth.CONFIG_PATH
    if args.check:
        diff = nats_auth.stale(REGISTRY, path, shown)
        if diff:
            sys.stdout.write(diff)
            print(f"gordon nats-auth: {shown} is stale; run `gordon nats-auth`", file=sys.stderr)
            return 1
        return 0
    if nats_auth.write(REGISTRY, path):
        print(f"wrote {shown}")
    return 0

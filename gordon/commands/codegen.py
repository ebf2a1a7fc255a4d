"""`gordon codegen [--check]`: write, or check, the Python generated from the registry."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from gordon.paths import ROOT

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `codegen` subcommand."""
    parser = subparsers.add_parser(
        "codegen",
        help="generate typed channels and subscribers from the registry",
        description="Write producers/channels.py and consumers/subscribers.py from the registry in "
        "schemas/. With --check, write nothing and exit 1 when a file is stale.",
    )
    parser.add_argument("--check", action="store_true", help="fail when a generated file is stale")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate, or check, every target."""
    from registry.codegen.targets import stale, write
    from schemas import REGISTRY

    if args.check:
        diffs = stale(REGISTRY, ROOT)
        for path, diff in diffs.items():
            sys.stdout.write(diff)
            print(f"gordon codegen: {path} is stale; run `gordon codegen`", file=sys.stderr)
        return 1 if diffs else 0
    for path in write(REGISTRY, ROOT):
        print(f"wrote {path}")
    return 0

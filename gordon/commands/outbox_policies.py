"""`gordon outbox-policies [--check]`: write, or check, the outbox's row-level security SQL."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from gordon.paths import ROOT

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `outbox-policies` subcommand."""
    parser = subparsers.add_parser(
        "outbox-policies",
        help="generate the bus.outbox row-level security policies from the registry",
        description="Write migrations/outbox_policies.sql (each service's role inserts only the "
        "subjects it produces) from the registry; `gordon migrate` applies the same SQL. With "
        "--check, write nothing and exit 1 when the file is stale.",
    )
    parser.add_argument("--check", action="store_true", help="fail when the checked-in SQL is stale")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate, or check, the policy SQL."""
    from migrations import outbox_policies
    from schemas import REGISTRY

    if args.check:
        diff = outbox_policies.stale(REGISTRY, ROOT)
        if diff:
            sys.stdout.write(diff)
            print(
                f"gordon outbox-policies: {outbox_policies.SQL_PATH} is stale; run `gordon outbox-policies`",
                file=sys.stderr,
            )
            return 1
        return 0
    if outbox_policies.write(REGISTRY, ROOT):
        print(f"wrote {outbox_policies.SQL_PATH}")
    return 0

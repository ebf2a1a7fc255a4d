"""`gordon alerts [--check] [--output PATH]`: write, or check, the Prometheus alert rules."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `alerts` subcommand."""
    parser = subparsers.add_parser(
        "alerts",
        help="generate the Prometheus alert rules (config/alerts.yml) from the registry",
        description="Write the Prometheus alert rules generated from the registry and the projection "
        "catalog (default: config/alerts.yml, or --output, or - for stdout): a lag rule per durable, a "
        "halt and a lag rule per projection, the outbox, the drain's leader, dead letters, the risk latch "
        "and each service's readiness. With --check, write nothing and exit 1 when the file is stale.",
        epilog="example: gordon alerts --check && promtool check rules config/alerts.yml",
    )
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    parser.add_argument("--output", metavar="PATH", help="where to write (default: config/alerts.yml)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Render, write or check the rules."""
    from gordon import alerts
    from gordon.generated_file import write_or_check
    from schemas import REGISTRY

    return write_or_check(
        args,
        "alerts",
        alerts.RULES_PATH,
        lambda: alerts.render(REGISTRY),
        lambda path: alerts.write(REGISTRY, path),
        lambda path, shown: alerts.stale(REGISTRY, path, shown),
    )

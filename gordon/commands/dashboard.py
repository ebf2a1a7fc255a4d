"""`gordon dashboard [--check] [--output PATH]`: write, or check, the Grafana dashboard."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the `dashboard` subcommand."""
    parser = subparsers.add_parser(
        "dashboard",
        help="generate the Grafana dashboard (config/grafana-dashboard.json) from the registry",
        description="Write the Grafana dashboard generated from the registry and the projection catalog "
        "(default: config/grafana-dashboard.json, or --output, or - for stdout): each service's "
        "readiness, handled rate and handler p99, every durable's lag, the outbox, the drain, the "
        "projections, dead letters and the risk latch. With --check, write nothing and exit 1 when the "
        "file is stale.",
    )
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    parser.add_argument(
        "--output", metavar="PATH", help="where to write (default: config/grafana-dashboard.json)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Render, write or check the dashboard."""
    from gordon import dashboard
    from gordon.generated_file import write_or_check
    from schemas import REGISTRY

    return write_or_check(
        args,
        "dashboard",
        dashboard.DASHBOARD_PATH,
        lambda: dashboard.render(REGISTRY),
        lambda path: dashboard.write(REGISTRY, path),
        lambda path, shown: dashboard.stale(REGISTRY, path, shown),
    )

"""Subcommands of `gordon`: each module here is one subcommand, listed in COMMANDS below.

A module `gordon/commands/<name>.py` exposes `register(subparsers: Subparsers) -> None`, which
adds its parser and sets `handler`, a function `(argparse.Namespace) -> int` (the exit code):

    def register(subparsers: Subparsers) -> None:
        parser = subparsers.add_parser("migrate", help="...")
        parser.set_defaults(handler=run)

A handler reports a user error by raising settings.errors.GordonError (one line, exit code 1).

The CLI imports only the module of the command being run: `gordon --help` lists COMMANDS without
importing any, so a command whose dependencies are broken or slow to import costs the others nothing.
A new module needs its line in COMMANDS (tests/test_cli.py checks that the two agree).
"""

from __future__ import annotations

import argparse
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, TypeAlias

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

COMMANDS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "alerts": "generate the Prometheus alert rules (config/alerts.yml) from the registry",
        "asyncapi": "write asyncapi.yaml from the schema registry (--check: fail when it is stale)",
        "codegen": "generate typed channels and subscribers from the registry",
        "dashboard": "generate the Grafana dashboard (config/grafana-dashboard.json) from the registry",
        "dlq": "list or replay dead letters (gordon-dlq)",
        "docs": "serve the AsyncAPI docs browser alone (needs no NATS or Postgres)",
        "drain": "forward bus.outbox to JetStream (leader-elected; run several for failover)",
        "manager": "run the manager service and its HTTP API (orders, positions, risk, health, metrics)",
        "migrate": "apply the database migrations (schemas, roles, grants, views)",
        "nats-auth": "generate the nats-server authorization config (one user per service) from the registry",
        "outbox": "inspect and repair the transactional outbox",
        "outbox-policies": "generate the bus.outbox row-level security policies from the registry",
        "projections": "status, rebuild and verify the trading read models",
        "risk": "the risk halt latch: resume it, show it",
        "schemas": "check the registry against the schema lock, update the lock, list the rules",
        "stream": "read a stream's events out for analysis",
        "tables": "row counts and newest times of every market_data and trading table (read-only)",
        "up": "start NATS and Postgres (embedded when GORDON_*_URL is unset), migrate, run the platform",
    }
)
"""Every subcommand and its one-line help, in the order `gordon --help` lists them."""


def module_name(command: str) -> str:
    """The module that implements `command` (`nats-auth` is gordon.commands.nats_auth)."""
    return f"{__name__}.{command.replace('-', '_')}"

"""What `gordon COMMAND --help` ends with: examples to copy and the environment variables that apply.

One table for every command (tests/test_cli.py checks each has its entry), applied by the CLI to the
command's parser and to each of its actions' parsers, so the help of `gordon projections` and of
`gordon projections rebuild` both show them. Each variable is described once, here.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from settings.environment import (
    DATA_DIR,
    DATABASE_URL,
    HTTP_HOST,
    MANAGER_HOST,
    MANAGER_PORT,
    MANAGER_TOKEN,
    NATS_URL,
    STREAM_REPLICAS,
    WORKERS_PORT,
)

NATS_PASSWORDS = "GORDON_NATS_PASSWORD_<USER>"
SERVICE_PORT_VARIABLES = "GORDON_<SERVICE>_PORT"
EXAMPLES = "examples:"

VARIABLES: dict[str, str] = {
    NATS_URL: "nats://host:4222 (a cluster: comma-separated); unset: the running `gordon up`'s, "
    f"found through {DATA_DIR}",
    DATABASE_URL: "postgresql://owner@host:5432/db (the schemas' owner); unset: the running `gordon up`'s",
    DATA_DIR: "embedded servers' data and the running `gordon up`'s endpoints.json (default .data)",
    NATS_PASSWORDS: "the NATS password of a user (ADMIN for the tools) when nats-server runs with "
    "config/nats-auth.conf; a running `gordon up`'s are read from its endpoints.json",
    MANAGER_TOKEN: "the operator bearer token of POST /risk/* (16+ characters); unset: those answer 503",
    MANAGER_HOST: "where the manager API listens (default 127.0.0.1)",
    MANAGER_PORT: "the manager API's port (default 8083; 0: any free port)",
    SERVICE_PORT_VARIABLES: "the /healthz and /metrics port of data, risk, bot, executor "
    "(8081, 8082, 8084, 8085; 0: any free port)",
    HTTP_HOST: "where those listen (default 127.0.0.1)",
    WORKERS_PORT: "the drain's and projection runners' /metrics port under gordon up (default 8086)",
    STREAM_REPLICAS: "replicas of every stream, 1..5 (default: as declared in schemas/streams.py)",
}
"""Every GORDON_* variable a command reads, in one line each."""

SERVERS = (NATS_URL, DATABASE_URL, DATA_DIR, NATS_PASSWORDS)
"""What a command that talks to the running platform reads."""


@dataclass(frozen=True)
class Help:
    examples: Sequence[str]
    variables: Sequence[str] = ()
    meaning: Mapping[str, str] = field(default_factory=dict)
    """What a variable means for this command when it is not what VARIABLES says."""


HELP: dict[str, Help] = {
    "alerts": Help(["gordon alerts", "gordon alerts --check", "gordon alerts --output /tmp/alerts.yml"]),
    "dashboard": Help(["gordon dashboard", "gordon dashboard --check"]),
    "asyncapi": Help(
        ["gordon asyncapi", "gordon asyncapi --check", "gordon asyncapi --nats-host nats.internal:4222"]
    ),
    "codegen": Help(["gordon codegen", "gordon codegen --check"]),
    "dlq": Help(
        [
            "gordon dlq list",
            "gordon dlq list --consumer risk-fills --format json",
            "gordon dlq replay 12 13",
            "gordon dlq replay --consumer risk-fills --all",
        ],
        (NATS_URL, DATA_DIR, NATS_PASSWORDS),
    ),
    "docs": Help(["gordon docs", "gordon docs --port 9000 --nats-host nats.internal:4222"]),
    "drain": Help(
        ["gordon drain", "GORDON_DATA_DIR=.data gordon drain  # beside a running gordon up, as a standby"],
        SERVERS,
    ),
    "manager": Help(
        ["gordon manager", "GORDON_MANAGER_TOKEN=change-me-16-chars-or-more gordon manager --port 8090"],
        (*SERVERS, MANAGER_TOKEN, MANAGER_HOST, MANAGER_PORT),
    ),
    "migrate": Help(
        ["gordon migrate", "gordon migrate --database-url postgresql://owner@db:5432/gordon"],
        (DATABASE_URL, DATA_DIR),
    ),
    "nats-auth": Help(["gordon nats-auth", "gordon nats-auth --check", "gordon nats-auth --output -"]),
    "outbox": Help(
        [
            "gordon outbox audit",
            "gordon outbox audit --dry-run",
            "gordon outbox audit --since-ms 1732000000000",
        ],
        SERVERS,
    ),
    "outbox-policies": Help(["gordon outbox-policies", "gordon outbox-policies --check"]),
    "projections": Help(
        [
            "gordon projections status",
            "GORDON_DATA_DIR=.data gordon projections status --format json  # from a second shell",
            "gordon projections verify positions",
            "gordon projections rebuild fills",
        ],
        SERVERS,
    ),
    "risk": Help(
        ["gordon risk status", 'gordon risk resume --reason "drawdown reviewed" --actor carol'],
        (DATABASE_URL, DATA_DIR),
    ),
    "schemas": Help(
        [
            "gordon schemas check",
            "gordon schemas check --against origin/main --format json",
            "gordon schemas lock",
            "gordon schemas rules",
        ]
    ),
    "stream": Help(
        [
            "gordon stream export --subject 'trading.fills.>' --out fills.parquet",
            "gordon stream export --subject 'market.klines.>' --stream gordon-bus --out klines.parquet",
        ],
        (NATS_URL, DATA_DIR, NATS_PASSWORDS),
    ),
    "tables": Help(
        [
            "gordon tables",
            "GORDON_DATA_DIR=.data gordon tables --schema market_data  # beside make run, in a second shell",
            "gordon tables --format csv --cap 10000",
            "gordon tables --database-url postgresql://owner@db:5432/gordon --format json",
        ],
        (DATABASE_URL, DATA_DIR),
    ),
    "up": Help(
        [
            "gordon up --demo  # what make run does",
            "gordon up --services data,executor,risk",
            "GORDON_NATS_URL=nats://n1:4222,nats://n2:4222 GORDON_DATABASE_URL=postgresql://owner@db/gordon "
            "GORDON_STREAM_REPLICAS=3 gordon up",
        ],
        (
            NATS_URL,
            DATABASE_URL,
            DATA_DIR,
            MANAGER_TOKEN,
            MANAGER_HOST,
            MANAGER_PORT,
            SERVICE_PORT_VARIABLES,
            HTTP_HOST,
            WORKERS_PORT,
            STREAM_REPLICAS,
        ),
        {
            NATS_URL: "nats://host:4222 (a cluster: comma-separated); unset: an embedded nats-server",
            DATABASE_URL: "postgresql://owner@host:5432/db; unset: an embedded PostgreSQL",
            DATA_DIR: "the embedded servers' data; endpoints.json there tells other shells of this run",
            MANAGER_TOKEN: "the operator token of POST /risk/*; unset: 503 (--demo generates one)",
        },
    ),
}
"""Each command's examples and the variables it reads (none: it reads only the project's files)."""


def epilog(command: str) -> str:
    """The text `gordon COMMAND --help` ends with."""
    found = HELP[command]
    lines = [EXAMPLES, *(f"  {example}" for example in found.examples), ""]
    if found.variables:
        width = max(len(name) for name in found.variables)
        lines.append("environment:")
        lines += [
            f"  {name.ljust(width)}  {found.meaning.get(name, VARIABLES[name])}" for name in found.variables
        ]
    else:
        lines.append("environment: none (it reads only the project's files)")
    return "\n".join(lines)


class Formatter(argparse.HelpFormatter):
    """argparse's layout, but the epilog as written (its examples are lines to copy, not prose)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(EXAMPLES):
            return text
        return super()._fill_text(text, width, indent)


def apply(command: str, parser: argparse.ArgumentParser) -> None:
    """Give `parser` (a command's) and its actions' parsers the command's epilog."""
    text = epilog(command)
    for each in (parser, *_actions(parser)):
        each.epilog = text
        each.formatter_class = Formatter


def _actions(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found += list(action.choices.values())
    return found

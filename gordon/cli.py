"""The `gordon` command line: one entry point; each subcommand lives in gordon/commands/."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable
from typing import NoReturn

import gordon.commands
from settings.errors import GordonError

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (argparse prints usage first by default)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand module in gordon.commands registered."""
    parser = _Parser(prog="gordon", description="Gordon event bus: servers, schema, tools.")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for module in sorted(pkgutil.iter_modules(gordon.commands.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            command = importlib.import_module(f"{gordon.commands.__name__}.{module.name}")
            command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_usage(sys.stderr)
        return 2
    try:
        return handler(args)
    except GordonError as error:
        print(f"gordon {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gordon {args.command}: interrupted", file=sys.stderr)
        return 130

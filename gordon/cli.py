"""The `gordon` command line: one entry point; each subcommand lives in gordon/commands/.

Only the chosen subcommand's module is imported (the others are listed from gordon.commands.COMMANDS),
so `gordon --help` and `gordon schemas check` stay fast and keep working when an unrelated module
cannot be imported.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from gordon import helptext
from gordon.commands import COMMANDS, module_name
from gordon.loading import load
from settings.errors import GordonError

Handler = Callable[[argparse.Namespace], int]
USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (argparse prints usage first by default)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def chosen(argv: Sequence[str]) -> str | None:
    """The subcommand `argv` names: its first argument when that is a known command (the top-level
    parser has no option that takes a value, so nothing else can come first)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand listed; only `command`'s module is imported to register its
    options (GordonError when it cannot be imported)."""
    parser = _Parser(prog="gordon", description="Gordon event bus: servers, schema, tools.")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        if name == command:
            load(module_name(name)).register(subparsers)
            helptext.apply(name, subparsers.choices[name])
        else:
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the process exit code."""
    arguments = sys.argv[1:] if argv is None else argv
    command = chosen(arguments)
    try:
        parser = build_parser(command)
    except GordonError as error:
        print(f"gordon {command}: {error}", file=sys.stderr)
        return 1
    args = parser.parse_args(arguments)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_usage(sys.stderr)
        return USAGE
    try:
        return handler(args)
    except GordonError as error:
        print(f"gordon {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gordon {args.command}: interrupted", file=sys.stderr)
        return 130

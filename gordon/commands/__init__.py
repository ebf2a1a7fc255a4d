"""Subcommands of `gordon`: each module here is one subcommand, found by the CLI on its own.

A module `gordon/commands/<name>.py` exposes `register(subparsers: Subparsers) -> None`, which
adds its parser and sets `handler`, a function `(argparse.Namespace) -> int` (the exit code):

    def register(subparsers: Subparsers) -> None:
        parser = subparsers.add_parser("migrate", help="...")
        parser.set_defaults(handler=run)

A handler reports a user error by raising settings.errors.GordonError (one line, exit code 1).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

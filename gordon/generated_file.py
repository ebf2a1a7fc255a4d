"""The one way a `gordon <generator> [--check] [--output PATH|-]` command writes or checks its file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from gordon.paths import ROOT


def write_or_check(
    args: argparse.Namespace,
    command: str,
    default_path: str,
    render: Callable[[], str],
    write: Callable[[Path], bool],
    stale: Callable[[Path, str], str],
) -> int:
    """`--output -` prints the file; `--check` prints the diff and exits 1 when the file is stale;
    otherwise the file is written when it changed. `default_path` is relative to the project root."""
    if args.output == "-":
        if args.check:
            print(f"gordon {command}: --check needs a file, not stdout", file=sys.stderr)
            return 1
        sys.stdout.write(render())
        return 0
    path = Path(args.output) if args.output else ROOT / default_path
    shown = args.output or default_path
    if args.check:
        diff = stale(path, shown)
        if diff:
            sys.stdout.write(diff)
            print(f"gordon {command}: {shown} is stale; run `gordon {command}`", file=sys.stderr)
            return 1
        return 0
    if write(path):
        print(f"wrote {shown}")
    return 0

"""The `gordon` command line: one entry point for every operator action."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the process exit code."""
    del argv
    print("gordon: no command yet", file=sys.stderr)
    return 2

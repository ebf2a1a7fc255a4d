"""`gordon asyncapi`: write asyncapi.yaml from the registry, or with --check tell whether it is stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from registry.asyncapi import DEFAULT_NATS_HOST, build, check, render, write
from registry.generated import staleness

NAME = "asyncapi"
DEFAULT_OUTPUT = Path("asyncapi.yaml")
DIFF_LINES = 40


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `asyncapi` subcommand; its handler is `run(args) -> int`."""
    parser = subparsers.add_parser(
        NAME,
        help="write asyncapi.yaml from the schema registry (--check: fail when it is stale)",
        description="Generate the AsyncAPI 3.0 document of every subject in schemas/ and write it to "
        "--output; with --check, write nothing and exit 1 when the file differs from what the "
        "registry generates.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `gordon asyncapi`."""
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="PATH",
        help=f"file to write or check (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if --output is stale; write nothing")
    parser.add_argument(
        "--nats-host",
        default=DEFAULT_NATS_HOST,
        metavar="HOST:PORT",
        help=f"host of the document's NATS server entry (default: {DEFAULT_NATS_HOST})",
    )


def run(args: argparse.Namespace) -> int:
    """Generate, then write or check; returns the exit code."""
    from schemas import REGISTRY  # imported here so other subcommands do not load every payload model

    path: Path = args.output
    text = render(build(REGISTRY, args.nats_host))
    if args.check:
        return _check(path, text)
    try:
        write(path, text)
    except OSError as error:
        print(f"gordon asyncapi: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"gordon asyncapi: wrote {path}")
    return 0


def _check(path: Path, text: str) -> int:
    """0 when `path` holds `text`; else one line naming the file, then the start of the difference."""
    if check(path, text):
        print(f"gordon asyncapi: {path} is up to date")
        return 0
    if not path.is_file():
        print(f"gordon asyncapi: {path} is missing: run `gordon asyncapi` to write it", file=sys.stderr)
        return 1
    print(f"gordon asyncapi: {path} is stale: run `gordon asyncapi` to regenerate it", file=sys.stderr)
    diff = staleness(path, text, str(path)).splitlines(keepends=True)
    sys.stderr.writelines(diff[:DIFF_LINES])
    if len(diff) > DIFF_LINES:
        print(f"... {len(diff) - DIFF_LINES} more diff lines", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run `gordon asyncapi` on its own (python -m gordon.commands.asyncapi)."""
    parser = argparse.ArgumentParser(prog="gordon asyncapi")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

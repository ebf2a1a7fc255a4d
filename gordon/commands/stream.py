"""`gordon stream export`: a stream's messages of one subject filter, decoded, to a parquet file."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from gordon import progress
from gordon.connecting import jetstream
from projections.export import Exported, ExportRefused, check_filter, export
from schemas import REGISTRY
from settings.environment import NATS_URL, Settings
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `stream` with its `export` action."""
    parser = subparsers.add_parser("stream", help="read a stream's events out for analysis")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    exporting = actions.add_parser(
        "export",
        help="write decoded events of a subject filter to parquet",
        description="Read the matching messages with an ordered consumer, decode each with its declared "
        "codec, write seq, subject, ts (UTC) and the payload fields (UUIDs and enums as text, decimals as "
        "Decimal columns at the largest scale their values need) "
        f"to parquet. The server is ${NATS_URL}.",
    )
    exporting.add_argument("--subject", required=True, metavar="FILTER", help="e.g. 'trading.fills.>'")
    exporting.add_argument("--out", required=True, type=Path, metavar="PATH", help="the parquet file")
    exporting.add_argument("--stream", default=REGISTRY.history.name, metavar="NAME")
    exporting.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    try:
        check_filter(REGISTRY, args.stream, args.subject)
    except ExportRefused as refused:
        raise GordonError(str(refused)) from None
    if not args.out.parent.is_dir():
        raise GordonError(f"--out: folder {args.out.parent} does not exist")
    settings = Settings.from_env()
    url = settings.nats_url
    if not url:
        raise GordonError(settings.not_set(NATS_URL, f"the stream {args.stream}"))

    async def work() -> Exported:
        async with jetstream(url) as js:
            try:
                with progress.bar(f"export {args.subject}", "events") as report:
                    return await export(js, REGISTRY, args.stream, args.subject, args.out, progress=report)
            except ExportRefused as refused:
                raise GordonError(str(refused)) from None

    done = asyncio.run(work())
    print(f"exported {done.rows} event(s) of {done.subject_filter} from {done.stream} to {done.path}")
    return 0

"""`gordon dlq list|replay`: inspect the dead-letter stream and send letters back to their subjects."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from consumers.dlq_tools import LetterNotFoundError, StoredLetter, read_letter, read_letters, replay
from gordon import progress
from gordon.connecting import jetstream
from settings.environment import NATS_URL, Settings
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers

DEFAULT_LIMIT = 100

T = TypeVar("T")


def register(subparsers: Subparsers) -> None:
    """Add `dlq` with its `list` and `replay` actions."""
    parser = subparsers.add_parser(
        "dlq",
        help="list or replay dead letters (gordon-dlq)",
        description=f"Dead letters on the NATS server at ${NATS_URL}.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show dead letters, oldest first")
    listing.add_argument("--consumer", metavar="NAME", help="only this durable's letters")
    listing.add_argument("--limit", type=_positive, default=DEFAULT_LIMIT, metavar="N")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(handler=run_list)
    replaying = actions.add_parser(
        "replay",
        help="republish letters to their original subjects, then delete them",
        description="Republish each letter's payload and headers to its original subject with the "
        "Msg-Id <original>:replay:<seq> (and Gordon-Replay-Of), then delete it from the DLQ.",
    )
    replaying.add_argument("seqs", nargs="*", metavar="SEQ", help="DLQ sequence numbers")
    replaying.add_argument("--consumer", metavar="NAME", help="with --all: every letter of this durable")
    replaying.add_argument("--all", action="store_true", help="replay every letter of --consumer")
    replaying.set_defaults(handler=run_replay)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def run_list(args: argparse.Namespace) -> int:
    letters = _with_nats(lambda js, dlq: read_letters(js, dlq, args.consumer, args.limit))
    if args.format == "json":
        print(json.dumps([_as_json(letter) for letter in letters], indent=2))
    else:
        print(_table(letters))
    return 0


def run_replay(args: argparse.Namespace) -> int:
    seqs = _sequences(args.seqs)
    if args.all and seqs:
        raise GordonError("give sequence numbers or --consumer NAME --all, not both")
    if args.all and not args.consumer:
        raise GordonError("--all needs --consumer NAME (replaying every consumer's letters is refused)")
    if not args.all and not seqs:
        raise GordonError("give the sequence numbers to replay, or --consumer NAME --all")
    if args.consumer and not args.all:
        raise GordonError("--consumer applies to --all only")

    async def work(js: JetStreamContext, dlq: str) -> list[str]:
        if args.all:
            letters = await read_letters(js, dlq, args.consumer)
        else:
            letters = [await read_letter(js, dlq, seq) for seq in seqs]  # all checked before any replay
        lines = []
        with progress.bar(f"replay {dlq}", "letters") as report:
            for letter in letters:
                done = await replay(js, dlq, letter)
                lines.append(
                    f"replayed {dlq} seq {letter.seq} ({letter.consumer}) to {letter.subject} as "
                    f"{done.stream} seq {done.stream_seq}, Msg-Id {done.msg_id}; deleted from {dlq}"
                )
                report(len(lines), len(letters))
        return lines or [f"no dead letters of {args.consumer} in {dlq}"]

    for line in _with_nats(work):
        print(line)
    return 0


def _sequences(texts: list[str]) -> list[int]:
    seqs = []
    for text in texts:
        if not text.isdigit() or int(text) < 1:
            raise GordonError(f"not a DLQ sequence number: {text!r}")
        seqs.append(int(text))
    return seqs


def _with_nats(work: Callable[[JetStreamContext, str], Awaitable[T]]) -> T:
    """Connect to $GORDON_NATS_URL, run `work(js, dlq stream name)`, turn failures into one line."""
    from schemas.streams import DLQ

    settings = Settings.from_env()
    url = settings.nats_url
    if url is None:
        raise GordonError(settings.not_set(NATS_URL, f"the dead letters in {DLQ.name}"))
    return asyncio.run(_session(url, DLQ.name, work))


async def _session(url: str, dlq: str, work: Callable[[JetStreamContext, str], Awaitable[T]]) -> T:
    async with jetstream(url) as js:
        try:
            await js.stream_info(dlq)
        except NotFoundError:
            raise GordonError(f"stream {dlq} does not exist on {url}") from None
        try:
            return await work(js, dlq)
        except LetterNotFoundError as error:
            raise GordonError(str(error)) from None


def _as_json(letter: StoredLetter) -> dict[str, object]:
    return {
        "seq": letter.seq,
        "consumer": letter.consumer,
        "subject": letter.subject,
        "stream": letter.stream,
        "stream_seq": letter.stream_seq,
        "deliveries": letter.deliveries,
        "reason": letter.reason,
        "at_ms": letter.at_ms,
        "age_s": round(letter.age_s(), 3),
        "msg_id": letter.msg_id,
    }


def _table(letters: list[StoredLetter]) -> str:
    header = ("SEQ", "CONSUMER", "SUBJECT", "DELIVERIES", "AGE", "REASON")
    rows = [
        (str(x.seq), x.consumer, x.subject, str(x.deliveries), _age(x.age_s()), x.reason) for x in letters
    ]
    if not rows:
        return "no dead letters"
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in (header, *rows)
    )


def _age(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"

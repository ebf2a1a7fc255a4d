"""`gordon projections status|rebuild|verify`: where the read models are, rebuild one, check one.

The owner URL is $GORDON_DATABASE_URL (creating and swapping generations needs the schema owner); the
runners connect as gordon_projector on the same server; the history stream is on $GORDON_NATS_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import asyncpg
from nats.js import JetStreamContext

from gordon import progress
from gordon.connecting import jetstream
from projections import status as status_of
from projections.catalog import PROJECTIONS
from projections.rebuild import RebuildRefused, rebuild
from projections.verify import verify
from schemas import REGISTRY
from settings import roles
from settings.dsn import with_user
from settings.environment import DATABASE_URL, NATS_URL, Settings, unreachable
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers

T = TypeVar("T")


def register(subparsers: Subparsers) -> None:
    """Add `projections` with `status`, `rebuild NAME` and `verify NAME`."""
    parser = subparsers.add_parser(
        "projections",
        help="status, rebuild and verify the trading read models",
        description=f"Projections in ${DATABASE_URL} folded from the history stream on ${NATS_URL}.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    showing = actions.add_parser("status", help="live generation, tracking, lag and halts of each projection")
    showing.add_argument("--format", choices=("text", "json"), default="text")
    showing.set_defaults(handler=run_status)
    names = sorted(PROJECTIONS)
    rebuilding = actions.add_parser(
        "rebuild",
        help="rebuild a projection from history beside the live one and swap it in",
        description="Fill a new generation from the history stream while the live runner goes on, check "
        "it equal to the live one at one sequence, then swap views and drop the old generation.",
    )
    rebuilding.add_argument("name", choices=names, metavar="NAME", help=f"one of: {', '.join(names)}")
    rebuilding.set_defaults(handler=run_rebuild)
    verifying = actions.add_parser(
        "verify",
        help="compare a projection with a scratch rebuild from history; exit 1 when rows differ",
    )
    verifying.add_argument("name", choices=names, metavar="NAME", help=f"one of: {', '.join(names)}")
    verifying.set_defaults(handler=run_verify)


def run_status(args: argparse.Namespace) -> int:
    async def work(owner: str, js: JetStreamContext) -> list[status_of.Status]:
        conn = await _connect(owner)
        try:
            return await status_of.status(conn, js, REGISTRY, PROJECTIONS.values())
        finally:
            await conn.close()

    rows = _run(work)
    if args.format == "json":
        print(json.dumps([row.as_json() for row in rows], indent=2))
    else:
        print(status_of.table(rows))
    return 0


def run_rebuild(args: argparse.Namespace) -> int:
    projection = PROJECTIONS[args.name]

    async def work(owner: str, js: JetStreamContext) -> str:
        with progress.bar(f"rebuild {projection.name}", "seq") as report:
            done = await rebuild(owner, with_user(owner, roles.PROJECTOR), js, projection, progress=report)
        return str(done)

    print(_run(work))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    projection = PROJECTIONS[args.name]

    async def work(owner: str, js: JetStreamContext) -> tuple[bool, list[str]]:
        with progress.bar(f"verify {projection.name}", "seq") as report:
            found = await verify(owner, with_user(owner, roles.PROJECTOR), js, projection, progress=report)
        return found.equal, found.lines()

    equal, lines = _run(work)
    print("\n".join(lines))
    return 0 if equal else 1


def _run(work: Callable[[str, JetStreamContext], Awaitable[T]]) -> T:
    settings = Settings.from_env()
    if not settings.database_url:
        raise GordonError(settings.not_set(DATABASE_URL, "the projections' tables"))
    if not settings.nats_url:
        raise GordonError(settings.not_set(NATS_URL, "the history stream"))
    owner, url = settings.database_url, settings.nats_url

    async def session() -> T:
        async with jetstream(url) as js:
            try:
                return await work(owner, js)
            except RebuildRefused as refused:
                raise GordonError(str(refused)) from None

    return asyncio.run(session())


async def _connect(dsn: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise GordonError(unreachable(DATABASE_URL, dsn, exc)) from None

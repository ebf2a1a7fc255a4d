"""`gordon outbox audit`: check that every outbox row marked published is in the stream; republish the
missing ones. Exit 0 when nothing was missing or everything missing was republished, else 1."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

import asyncpg
import nats

from gordon import progress
from producers.audit import AuditReport, audit
from schemas import REGISTRY
from settings import nats_login
from settings.environment import DATABASE_URL, NATS_URL, Settings, nats_servers, unreachable
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def _since(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--since-ms wants unix milliseconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--since-ms must be 0 or more, got {value}")
    return value


def register(subparsers: Subparsers) -> None:
    """Add `outbox` with its `audit` subcommand."""
    parser = subparsers.add_parser("outbox", help="inspect and repair the transactional outbox")
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "audit",
        help="republish events marked published that the stream no longer holds",
        description="Compare the outbox rows marked published (within the outbox's retention, or since "
        "--since-ms) with the Msg-Ids held by the stream, republish each missing event with its original "
        "headers and Msg-Id, print the counts. Exit 0 when nothing was missing or all were republished.",
    )
    check.add_argument(
        "--since-ms",
        type=_since,
        default=0,
        metavar="MS",
        help="audit rows published at or after MS "
        "(unix milliseconds; default: every row the outbox still holds)",
    )
    check.add_argument("--database-url", metavar="URL", help=f"postgresql:// URL (default: ${DATABASE_URL})")
    check.add_argument("--nats-url", metavar="URL", help=f"nats:// URL (default: ${NATS_URL})")
    check.add_argument("--dry-run", action="store_true", help="report what is missing; republish nothing")
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Audit and print one line of counts (and one line per event that could not be republished)."""
    settings = Settings.from_env()
    dsn = args.database_url or settings.database_url
    nats_url = args.nats_url or settings.nats_url
    if not dsn:
        raise GordonError(settings.not_set(DATABASE_URL, "the outbox audit", "--database-url"))
    if not nats_url:
        raise GordonError(settings.not_set(NATS_URL, "the outbox audit", "--nats-url"))
    report = asyncio.run(_audit(dsn, nats_url, args.since_ms, not args.dry_run))
    print(f"gordon outbox audit: {report.line()}")
    for event_id, reason in report.not_stored.items():
        print(f"gordon outbox audit: {event_id} not stored: {reason}")
    if args.dry_run:
        return 0 if not report.missing else 1
    return 0 if report.ok else 1


async def _audit(dsn: str, nats_url: str, since_ms: int, republish: bool) -> AuditReport:
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise GordonError(unreachable(DATABASE_URL, dsn, exc)) from None
    try:
        try:
            client = await nats.connect(
                nats_servers(nats_url),
                connect_timeout=5,
                max_reconnect_attempts=1,
                **nats_login.connect_options(nats_login.ADMIN),
            )
        except Exception as exc:  # nats-py raises several unrelated types when a server is unreachable
            raise GordonError(unreachable(NATS_URL, nats_url, exc)) from None
        try:
            with progress.bar(f"audit {REGISTRY.bus.name}", "msgs") as report:
                js = client.jetstream()
                return await audit(
                    conn, js, REGISTRY.bus.name, since_ms, republish=republish, progress=report
                )
        finally:
            await client.close()
    finally:
        await conn.close()

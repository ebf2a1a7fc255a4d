"""`gordon risk resume --reason TEXT [--actor NAME]` and `gordon risk status`.

Both connect as gordon_risk (the role derived from GORDON_DATABASE_URL). A resume is one transaction: the
latch's resume event (published on risk.events.manual), a resume command on risk.commands and an audit row
with actor and reason; it is refused, exit 1, when the latch is not halted. Status folds trading.risk_events
(the write side, not the lagging risk_state projection) and prints the thresholds of trading.risk_config.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING

import asyncpg

from domain.latch import LatchNotHalted
from producers.outbox import Outbox
from registry.subject import Service
from schemas import REGISTRY
from schemas.risk import BreakerEvent
from services.risk.breakers import EVALUATED
from services.risk.config import RiskConfig, load_config
from services.risk.halt import LatchView, read_view, resume
from services.runtime import wall_clock_ms
from settings import roles
from settings.dsn import with_user
from settings.environment import DATABASE_URL, Settings, unreachable
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `risk` with its `resume` and `status` subcommands."""
    parser = subparsers.add_parser("risk", help="the risk halt latch: resume it, show it")
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)
    again = actions.add_parser(
        "resume",
        help="clear the halt latch (audited)",
        description="Clear the risk halt latch, publish a resume command and audit who did it and why. "
        "Refused (exit 1) when the latch is not halted.",
    )
    again.add_argument("--reason", required=True, metavar="TEXT", help="why trading may resume")
    again.add_argument("--actor", default=None, metavar="NAME", help="who resumes (default: the login name)")
    again.add_argument("--database-url", metavar="URL", help=f"postgresql:// URL (default: ${DATABASE_URL})")
    again.set_defaults(handler=run_resume)
    status = actions.add_parser(
        "status",
        help="print the latch and the breaker thresholds",
        description="Print the halt latch "
        "as trading.risk_events has it, and each breaker's row of trading.risk_config.",
    )
    status.add_argument("--database-url", metavar="URL", help=f"postgresql:// URL (default: ${DATABASE_URL})")
    status.set_defaults(handler=run_status)


def _database_url(args: argparse.Namespace) -> str:
    settings = Settings.from_env()
    url: str | None = args.database_url or settings.database_url
    if not url:
        raise GordonError(settings.not_set(DATABASE_URL, "the risk latch", "--database-url"))
    return url


async def _connect(database_url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(with_user(database_url, roles.RISK), timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise GordonError(unreachable(DATABASE_URL, with_user(database_url, roles.RISK), exc)) from None


async def resume_latch(
    database_url: str, actor: str, reason: str, *, clock: Callable[[], int] = wall_clock_ms
) -> BreakerEvent:
    """Resume the global latch as `actor` for `reason`; GordonError (one line) when refused."""
    if not reason.strip():
        raise GordonError("resume refused: --reason must say why")
    if not actor.strip():
        raise GordonError("resume refused: --actor must name who resumes")
    conn = await _connect(database_url)
    try:
        return await resume(conn, Outbox(REGISTRY, Service.RISK), actor, reason, ts_ms=clock())
    except LatchNotHalted:
        raise GordonError("resume refused: the risk latch is not halted") from None
    finally:
        await conn.close()


async def latch_status(database_url: str) -> tuple[LatchView, RiskConfig]:
    """The latch folded from trading.risk_events, and the breaker configuration."""
    conn = await _connect(database_url)
    try:
        return await read_view(conn), await load_config(conn)
    finally:
        await conn.close()


def status_lines(view: LatchView, config: RiskConfig) -> list[str]:
    """What `gordon risk status` prints."""
    state = view.state
    if state.halted:
        tripped = ", ".join(sorted(b.value for b in view.tripped))
        head = f"latch {state.latch_id}: HALTED (version {state.version}; tripped since resume: {tripped}); "
        head += (
            f"last: {state.breaker.value if state.breaker else '-'} at {state.changed_ms} ms: {state.reason}"
        )
    elif state.version:
        head = f"latch {state.latch_id}: running (version {state.version}; last: {state.reason})"
    else:
        head = f"latch {state.latch_id}: running (never tripped)"
    lines = [head, f"{'breaker':<12} {'enabled':<8} {'threshold':>12} {'window_ms':>11}  evaluated"]
    for breaker, row in sorted(config.rows.items()):
        evaluated = "yes" if breaker in EVALUATED else "no (declared only)"
        enabled = "yes" if row.enabled else "no"
        lines.append(
            f"{breaker.value:<12} {enabled:<8} {row.threshold:>12g} {row.window_ms:>11}  {evaluated}"
        )
    return lines


def run_resume(args: argparse.Namespace) -> int:
    """Resume and print one line."""
    actor = args.actor if args.actor is not None else getpass.getuser()
    event = asyncio.run(resume_latch(_database_url(args), actor, args.reason))
    print(f"gordon risk resume: latch {event.latch_id} resumed at version {event.version} by {actor}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Print the latch and the thresholds."""
    view, config = asyncio.run(latch_status(_database_url(args)))
    print("\n".join(status_lines(view, config)))
    return 0

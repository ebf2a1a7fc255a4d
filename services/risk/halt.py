"""Trip and resume the halt latch on the write side, each in one transaction as gordon_risk.

A trip appends the breaker event (published on risk.events.{breaker}), publishes flatten and pause on
risk.commands and writes a 'trip' audit row. Each command issued is also recorded in trading.bot_commands
with its outbox row. A breaker already tripped since the last resume does not trip
again, so a redelivered fill or kline changes nothing. A resume is an operator's: audited with actor and
reason, published as a resume command, refused when the latch is not halted. An operator's flatten (a
request from the manager API) halts the latch as a manual trip, then pauses and flattens like a trip; an
operator's pause halts it the same way and only pauses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import asyncpg

from domain.latch import LatchState, apply_latch, open_latch
from producers.channels import RISK_COMMANDS
from producers.outbox import Outbox
from registry.ids import uuid7
from schemas.risk import Breaker, BreakerEvent, CommandKind, LatchAction, RiskCommand
from services.risk.breakers import Breach
from stores.latch import EVENTS, LOAD, LatchStore

GLOBAL = "global"
RISK_ACTOR = "gordon-risk"

AUDIT = "INSERT INTO trading.risk_audit_log (action, actor, reason, ts_ms) VALUES ($1, $2, $3, $4)"
RECORD_COMMAND = """
INSERT INTO trading.bot_commands (id, command_id, kind, bot_id, reason, actor, issued_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""


@dataclass(frozen=True)
class LatchView:
    """The latch folded from its events, with the breakers tripped since the last resume."""

    state: LatchState
    tripped: frozenset[Breaker]
    resumed_version: int
    resumed_ms: int


def fold_view(latch_id: str, events: Sequence[BreakerEvent]) -> LatchView:
    """The latch after `events` (version order), by the domain reducer."""
    state = open_latch(latch_id)
    tripped: set[Breaker] = set()
    resumed_version = resumed_ms = 0
    for event in events:
        state = apply_latch(state, event)
        if event.action is LatchAction.RESUME:
            tripped.clear()
            resumed_version, resumed_ms = event.version, event.ts_ms
        else:
            tripped.add(event.breaker)
    return LatchView(state, frozenset(tripped), resumed_version, resumed_ms)


async def read_view(conn: asyncpg.Connection | asyncpg.Pool, latch_id: str = GLOBAL) -> LatchView:
    """The latch as trading.risk_events has it now (no lock: for deciding whether to try a trip)."""
    return fold_view(latch_id, [EVENTS.event(r) for r in await conn.fetch(LOAD, latch_id)])


async def head_version(conn: asyncpg.Connection | asyncpg.Pool, latch_id: str = GLOBAL) -> int:
    """The latch's last written version (0 before any event): a cheap test for a change."""
    version = await conn.fetchval(
        "SELECT version FROM trading.aggregate_heads WHERE kind = 'latch' AND id = $1", latch_id
    )
    return int(version or 0)


def command(kind: CommandKind, reason: str, ts_ms: int) -> RiskCommand:
    """A risk command to every bot (bot_id None)."""
    return RiskCommand(command_id=uuid7(ts_ms), command=kind, reason=reason, issued_ms=ts_ms)


async def issue(conn: asyncpg.Connection, outbox: Outbox, cmd: RiskCommand, actor: str | None = None) -> None:
    """Publish `cmd` on risk.commands and record it in trading.bot_commands, in `conn`'s transaction
    (`actor` None: risk itself issued it)."""
    await outbox.publish_within(conn, RISK_COMMANDS(), cmd, actor=actor)
    await conn.execute(
        RECORD_COMMAND,
        uuid7(cmd.issued_ms),
        cmd.command_id,
        cmd.command.value,
        cmd.bot_id,
        cmd.reason,
        actor or RISK_ACTOR,
        cmd.issued_ms,
    )


async def trip(
    pool: asyncpg.Pool, outbox: Outbox, breach: Breach, *, ts_ms: int, latch_id: str = GLOBAL
) -> BreakerEvent | None:
    """Trip the latch for `breach` unless that breaker tripped since the last resume; the event or None."""
    store = LatchStore(outbox)
    async with pool.acquire() as proxy, proxy.transaction():
        conn = cast(asyncpg.Connection, proxy)  # the pool hands out proxies of a Connection
        latch = await store.load(conn, latch_id)
        view = await read_view(conn, latch_id)
        if breach.breaker in view.tripped:
            return None
        latch.trip(breach.breaker, breach.value, breach.threshold, breach.message, ts_ms=ts_ms)
        (event,) = await store.save(conn, latch)
        reason = f"{breach.breaker.value}: {breach.message}"
        # pause first, so no order can slip in between the flatten and the pause
        for kind in (CommandKind.PAUSE, CommandKind.FLATTEN):
            await issue(conn, outbox, command(kind, reason, ts_ms))
        await conn.execute(AUDIT, LatchAction.TRIP.value, RISK_ACTOR, reason, ts_ms)
        return event


class LatchMoved(ValueError):
    """A resume meant for a latch version that is no longer the latest (it changed since)."""

    def __init__(self, latch_id: str, expected: int, actual: int) -> None:
        super().__init__(f"latch {latch_id}: resume refused, it is at version {actual}, not {expected}")


async def resume(
    conn: asyncpg.Connection,
    outbox: Outbox,
    actor: str,
    reason: str,
    *,
    ts_ms: int,
    latch_id: str = GLOBAL,
    expected_version: int | None = None,
) -> BreakerEvent:
    """Clear the halt (raises `domain.latch.LatchNotHalted` when it is not halted, and `LatchMoved` when
    `expected_version` is given and the latch is at another version: a later trip is not resumed unseen)."""
    store = LatchStore(outbox)
    async with conn.transaction():
        latch = await store.load(conn, latch_id)
        if expected_version is not None and latch.state.version != expected_version:
            raise LatchMoved(latch_id, expected_version, latch.state.version)
        latch.resume(actor, reason, ts_ms=ts_ms)
        (event,) = await store.save(conn, latch, actor=actor)
        resumed = command(CommandKind.RESUME, reason, ts_ms)
        await issue(conn, outbox, resumed, actor)
        await conn.execute(AUDIT, LatchAction.RESUME.value, actor, reason, ts_ms)
        return event


async def flatten(
    conn: asyncpg.Connection, outbox: Outbox, actor: str, reason: str, *, ts_ms: int, latch_id: str = GLOBAL
) -> BreakerEvent | None:
    """An operator's flatten: a manual trip (none when one is in since the last resume; the trip event or
    None is returned), then pause and flatten every bot, audited with `actor`, in one transaction."""
    kinds = (CommandKind.PAUSE, CommandKind.FLATTEN)
    return await _manual_halt(conn, outbox, CommandKind.FLATTEN, kinds, actor, reason, ts_ms, latch_id)


async def pause(
    conn: asyncpg.Connection, outbox: Outbox, actor: str, reason: str, *, ts_ms: int, latch_id: str = GLOBAL
) -> BreakerEvent | None:
    """An operator's pause: a manual trip as for a flatten, then pause every bot; positions stay open
    (a resume clears it). Audited with `actor`, in one transaction."""
    kinds = (CommandKind.PAUSE,)
    return await _manual_halt(conn, outbox, CommandKind.PAUSE, kinds, actor, reason, ts_ms, latch_id)


async def _manual_halt(
    conn: asyncpg.Connection,
    outbox: Outbox,
    action: CommandKind,
    kinds: tuple[CommandKind, ...],
    actor: str,
    reason: str,
    ts_ms: int,
    latch_id: str,
) -> BreakerEvent | None:
    """Halt the latch as a manual trip unless one is in since the last resume, then send `kinds` to
    every bot (pause first) and audit `action`."""
    if not actor.strip() or not reason.strip():
        raise ValueError(f"a {action.value} needs an actor and a reason")
    store = LatchStore(outbox)
    message = f"{action.value} by {actor}: {reason}"
    async with conn.transaction():
        latch = await store.load(conn, latch_id)
        view = await read_view(conn, latch_id)
        event = None
        if Breaker.MANUAL not in view.tripped:
            latch.trip(Breaker.MANUAL, None, None, message, ts_ms=ts_ms)
            (event,) = await store.save(conn, latch, actor=actor)
        for kind in kinds:
            await issue(conn, outbox, command(kind, message, ts_ms), actor)
        await conn.execute(AUDIT, action.value, actor, reason, ts_ms)
        return event

"""The service chaos suite's end checks, read from the write side's own tables: each returns what it found
wrong (an empty list when nothing) and adds what it counted to a `Tally` for the run's summary line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from schemas import REGISTRY
from schemas.risk import CommandKind, OperatorAction, OperatorRequest, RiskCommand
from services.executor.commands import COMMAND_IDS
from services.risk.requests import REQUEST_IDS


@dataclass
class Tally:
    """What the run did, for the summary line and RELIABILITY.md."""

    counts: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        return ", ".join(f"{what} {n}" for what, n in sorted(self.counts.items()))


PLACED_TWICE = """
SELECT intent_id, bot_id, symbol, count(*) AS n FROM trading.order_events WHERE version = 1
GROUP BY 1, 2, 3 HAVING count(*) > 1
"""
UNDECIDED = """
SELECT i.intent_id FROM trading.order_intents i
WHERE NOT EXISTS (SELECT 1 FROM trading.intent_receipts r WHERE r.intent_id = i.intent_id)
"""
ORDER_OF_ANOTHER_RECEIPT = """
SELECT e.order_id FROM trading.order_events e JOIN trading.order_intents i USING (intent_id)
WHERE e.version = 1 AND NOT EXISTS (
    SELECT 1 FROM trading.intent_receipts r WHERE r.intent_id = e.intent_id AND r.order_id = e.order_id)
"""
ORDERS = "SELECT count(DISTINCT order_id) FROM trading.order_events"
BOOKED = "SELECT count(*) FROM paper.orders"
OUTBOX_OF = "SELECT subject, payload FROM bus.outbox WHERE subject LIKE $1 ORDER BY id"
INBOX_OF = "SELECT msg_id FROM bus.inbox WHERE consumer = $1"
PAUSED = "SELECT paused FROM trading.executor_controls WHERE id = 1"
AUDITED = (
    "SELECT action, count(*) AS n FROM trading.risk_audit_log WHERE actor = $1 AND reason = $2 GROUP BY 1"
)
GAPS = {
    "order": "SELECT order_id::text FROM trading.order_events GROUP BY 1 "
    "HAVING min(version) <> 1 OR max(version) <> count(*)",
    "position": "SELECT bot_id::text || ':' || symbol FROM trading.fill_events GROUP BY 1 "
    "HAVING min(version) <> 1 OR max(version) <> count(*)",
    "latch": "SELECT latch_id FROM trading.risk_events GROUP BY 1 "
    "HAVING min(version) <> 1 OR max(version) <> count(*)",
}
HEADS_OFF = """
SELECT kind, id, h.version AS head, w.version AS written FROM trading.aggregate_heads h FULL JOIN (
    SELECT 'order' AS kind, order_id::text AS id, max(version) AS version
    FROM trading.order_events GROUP BY 2
    UNION ALL SELECT 'position', bot_id::text || ':' || symbol, max(version)
    FROM trading.fill_events GROUP BY 2
    UNION ALL SELECT 'latch', latch_id, max(version) FROM trading.risk_events GROUP BY 2
) w USING (kind, id)
WHERE coalesce(h.version, 0) <> coalesce(w.version, 0)
"""


async def _decoded(conn: asyncpg.Connection, like: str) -> list[Any]:
    """The events committed to the outbox on subjects matching `like`, decoded, in outbox order."""
    rows = await conn.fetch(OUTBOX_OF, like)
    return [REGISTRY.codec(REGISTRY.match(r["subject"])).decode(r["payload"]) for r in rows]


async def _inbox(conn: asyncpg.Connection, consumer: str) -> set[str]:
    return {str(r[0]) for r in await conn.fetch(INBOX_OF, consumer)}


async def intents_placed_once(conn: asyncpg.Connection, tally: Tally) -> list[str]:
    """No intent (nor a flatten's closing order per bot and symbol) became two orders; every bot intent
    was decided once, and each of its orders is the one its receipt names; the exchange booked each
    order once."""
    wrong = [f"placed twice: {dict(r)}" for r in await conn.fetch(PLACED_TWICE)]
    wrong += [f"intent {r[0]} never decided" for r in await conn.fetch(UNDECIDED)]
    wrong += [f"order {r[0]} is not its receipt's" for r in await conn.fetch(ORDER_OF_ANOTHER_RECEIPT)]
    orders, booked = await conn.fetchval(ORDERS), await conn.fetchval(BOOKED)
    if orders != booked:
        wrong.append(f"{orders} orders in trading.order_events, {booked} on the paper exchange")
    for row in await conn.fetch("SELECT outcome, count(*) AS n FROM trading.intent_receipts GROUP BY 1"):
        tally.counts[f"intents {row['outcome']}"] = row["n"]
    tally.counts["orders"] = orders
    tally.counts["fills"] = await conn.fetchval("SELECT count(*) FROM trading.fill_events")
    return wrong


async def commands_applied_once(conn: asyncpg.Connection, tally: Tally) -> list[str]:
    """Every risk command committed was applied by the executor (its command id in the inbox, written in
    the applying transaction, so at most once), and the pause switch is where the last pause or resume
    left it."""
    commands: list[RiskCommand] = await _decoded(conn, "risk.commands")
    applied = await _inbox(conn, COMMAND_IDS)
    wrong = [
        f"risk command {c.command_id} ({c.command.value}) never applied"
        for c in commands
        if str(c.command_id) not in applied
    ]
    wrong += [
        f"applied command {i} was never committed" for i in applied - {str(c.command_id) for c in commands}
    ]
    switches = [c.command for c in commands if c.command in (CommandKind.PAUSE, CommandKind.RESUME)]
    paused = bool(await conn.fetchval(PAUSED))
    if switches and paused != (switches[-1] is CommandKind.PAUSE):
        wrong.append(f"executor paused={paused} after the last switch command {switches[-1].value}")
    for kind, n in Counter(c.command.value for c in commands).items():
        tally.counts[f"risk commands {kind}"] = n
    return wrong


async def requests_applied_once(conn: asyncpg.Connection, tally: Tally) -> list[str]:
    """Every operator request committed by the manager API was carried out by the risk service once: its
    request id in the inbox; a flatten audited by risk exactly once, a resume at most once (it is refused
    when the latch moved after the operator saw it halted)."""
    requests: list[OperatorRequest] = await _decoded(conn, "risk.requests.%")
    handled = await _inbox(conn, REQUEST_IDS)
    wrong = [
        f"operator request {r.request_id} never carried out"
        for r in requests
        if str(r.request_id) not in handled
    ]
    for request in requests:
        reason = f"{request.reason} (request {request.request_id})"
        audited = {r["action"]: r["n"] for r in await conn.fetch(AUDITED, request.actor, reason)}
        done = audited.get(request.action.value, 0)
        if done > 1 or (request.action is OperatorAction.FLATTEN and done != 1):
            wrong.append(f"operator {request.action.value} {request.request_id} carried out {done} times")
        outcome = "done" if done else "refused"
        tally.counts[f"operator {request.action.value} {outcome}"] += 1
    return wrong


async def versions_gapless(conn: asyncpg.Connection) -> list[str]:
    """Every aggregate's events run 1..n with no gap, and its head row is at n."""
    wrong = [
        f"{kind} {r[0]} has a version gap" for kind, query in GAPS.items() for r in await conn.fetch(query)
    ]
    wrong += [f"head off: {dict(r)}" for r in await conn.fetch(HEADS_OFF)]
    return wrong

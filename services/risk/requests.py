"""Operator requests (risk.requests.{action}, from the manager API), carried out once each.

Resume runs the same code as `gordon risk resume` (services/risk/halt.py), for the latch version the
operator saw halted: a latch no longer halted, or tripped again since, is not resumed (refused and
logged). Flatten halts the latch as a manual trip and pauses then flattens every bot; pause halts it the
same way and only pauses (positions stay open). The inbox records
the event id and the request id in the handling transaction, so a redelivery or a replay does nothing.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import cast

import asyncpg

from consumers.inbox import first_time
from domain.latch import LatchNotHalted
from producers.outbox import Outbox
from schemas.risk import OperatorAction, OperatorRequest
from services.risk import halt

log = logging.getLogger("gordon.risk")

CONSUMER = "risk-requests"
REQUEST_IDS = "risk-requests:request_id"


class Outcome(StrEnum):
    DONE = "done"
    REFUSED = "refused"
    DUPLICATE = "duplicate"


async def carry_out(pool: asyncpg.Pool, outbox: Outbox, request: OperatorRequest, *, ts_ms: int) -> Outcome:
    """Do what `request` asks, once."""
    reason = f"{request.reason} (request {request.request_id})"
    async with pool.acquire() as proxy, proxy.transaction():
        conn = cast(asyncpg.Connection, proxy)  # the pool hands out proxies of a Connection
        if not await first_time(conn, CONSUMER, request.event_id):
            return Outcome.DUPLICATE
        if not await first_time(conn, REQUEST_IDS, request.request_id):
            return Outcome.DUPLICATE
        if request.action is OperatorAction.RESUME:
            try:
                await halt.resume(
                    conn, outbox, request.actor, reason, ts_ms=ts_ms, expected_version=request.latch_version
                )
            except (LatchNotHalted, halt.LatchMoved) as refused:
                log.warning("risk: resume request %s by %s: %s", request.request_id, request.actor, refused)
                return Outcome.REFUSED
        elif request.action is OperatorAction.PAUSE:
            await halt.pause(conn, outbox, request.actor, reason, ts_ms=ts_ms)
        else:
            await halt.flatten(conn, outbox, request.actor, reason, ts_ms=ts_ms)
        log.warning("risk: %s by %s: %s", request.action.value, request.actor, reason)
        return Outcome.DONE

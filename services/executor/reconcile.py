"""Reconcile on startup: the paper exchange's books against the executor's own order and fill events.

Both sides are read in one REPEATABLE READ snapshot and compared per order (present on both sides,
status, qty, filled qty, and the paper order's filled qty against its paper fills) and per fill (present
on both sides, order, qty, price, fee, fee asset). The run is recorded in `trading.reconcile_runs`:
'clean', or 'failed' with the count and one detail object per mismatch.

Nothing is repaired. The events, the paper books and the outbox rows are written in one transaction, so
no crash can leave one side without the other; a difference means someone edited a table, and which side
is right cannot be known from here. It is reported for a person to decide, never guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg

from domain.orders import OrderState, apply_order
from stores.orders import EVENTS

ORDER_EVENTS = EVENTS.select(order_by="order_id, version")
PAPER_ORDERS = "SELECT order_id, qty, filled_qty, status FROM paper.orders"
FILL_EVENTS = "SELECT fill_id, order_id, qty, price, fee, fee_asset FROM trading.fill_events"
PAPER_FILLS = "SELECT fill_id, order_id, qty, price, fee, fee_asset FROM paper.fills"
START = "INSERT INTO trading.reconcile_runs (started_ms, status) VALUES ($1, 'running') RETURNING id"
FINISH = """
UPDATE trading.reconcile_runs SET finished_ms = $2, status = $3, mismatches = $4, details = $5::jsonb
WHERE id = $1
"""
FILL_FIELDS = ("order_id", "qty", "price", "fee", "fee_asset")


@dataclass(frozen=True)
class Report:
    """One reconcile run: its row id and the mismatches found (empty: clean)."""

    run_id: int
    orders: int
    fills: int
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.mismatches


async def reconcile(pool: asyncpg.Pool, clock: Callable[[], int]) -> Report:
    """Compare both sides, record the run, and return its report."""
    async with pool.acquire() as conn:
        run_id = int(await conn.fetchval(START, clock()))
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                orders = _fold(await conn.fetch(ORDER_EVENTS))
                paper_orders = {r["order_id"]: r for r in await conn.fetch(PAPER_ORDERS)}
                fills = {r["fill_id"]: r for r in await conn.fetch(FILL_EVENTS)}
                paper_fills = {r["fill_id"]: r for r in await conn.fetch(PAPER_FILLS)}
        except Exception as exc:
            error = [{"kind": "reconcile error", "error": f"{type(exc).__name__}: {exc}"}]
            await conn.execute(FINISH, run_id, clock(), "failed", 0, json.dumps(error))
            raise
        found = _orders(orders, paper_orders, paper_fills) + _fills(fills, paper_fills)
        status = "failed" if found else "clean"
        await conn.execute(FINISH, run_id, clock(), status, len(found), json.dumps(found))
    return Report(run_id, len(orders), len(fills), found)


def _fold(rows: list[asyncpg.Record]) -> dict[Any, OrderState]:
    orders: dict[Any, OrderState] = {}
    for row in rows:
        event = EVENTS.event(row)
        orders[event.order_id] = apply_order(orders.get(event.order_id), event)
    return orders


def _orders(
    orders: dict[Any, OrderState],
    paper: dict[Any, asyncpg.Record],
    paper_fills: dict[Any, asyncpg.Record],
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    filled_on_paper: dict[Any, Decimal] = {}
    for f in paper_fills.values():
        filled_on_paper[f["order_id"]] = filled_on_paper.get(f["order_id"], Decimal(0)) + f["qty"]
    for order_id in sorted(orders.keys() | paper.keys(), key=str):
        ours, theirs = orders.get(order_id), paper.get(order_id)
        if ours is None or theirs is None:
            kind = "order missing on paper" if theirs is None else "paper order without events"
            found.append({"kind": kind, "order_id": str(order_id)})
            continue
        events = {"status": ours.status.value, "qty": ours.qty, "filled_qty": ours.filled_qty}
        for name, value in events.items():
            if theirs[name] != value:
                found.append(_differs("order", order_id, name, theirs[name], value))
        summed = filled_on_paper.get(order_id, Decimal(0))
        if theirs["filled_qty"] != summed:
            found.append(
                {
                    "kind": "paper filled_qty differs from its paper fills",
                    "order_id": str(order_id),
                    "paper": str(theirs["filled_qty"]),
                    "paper_fills": str(summed),
                }
            )
    return found


def _fills(fills: dict[Any, asyncpg.Record], paper: dict[Any, asyncpg.Record]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for fill_id in sorted(fills.keys() | paper.keys(), key=str):
        ours, theirs = fills.get(fill_id), paper.get(fill_id)
        if ours is None or theirs is None:
            kind = "fill missing on paper" if theirs is None else "paper fill without a fill event"
            found.append({"kind": kind, "fill_id": str(fill_id)})
            continue
        for name in FILL_FIELDS:
            if theirs[name] != ours[name]:
                found.append(_differs("fill", fill_id, name, theirs[name], ours[name]))
    return found


def _differs(what: str, key: Any, name: str, paper: Any, events: Any) -> dict[str, Any]:
    return {
        "kind": f"{what} {name} differs",
        f"{what}_id": str(key),
        "paper": str(paper),
        "events": str(events),
    }

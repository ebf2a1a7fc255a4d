"""`GET /bots`: every configured bot with a name a person can tell apart, from `trading.bot_configs`, with
the run it has running (`trading.runs`), the process holding its lease (`trading.bot_leases`) and its
newest lifecycle event;
`GET /bots/{botId}/events`: its lifecycle (`trading.bot_events`) newest first.

A bot's name is its strategy, symbol and timeframe; two bots that would share one get the end of their
id appended (a UUIDv7 starts with its creation time, so its last characters are what differ).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import Field

from schemas.common import Market
from services.manager.api.backend import Backend, backend
from services.manager.api.models import CamelModel
from services.manager.api.paging import Cursor, Limit, split_page
from services.manager.api.readmodels import fetch_bot_configs, fetch_bot_events

router = APIRouter(tags=["trading"])

ID_TAIL = 6
"""How many of an id's last characters tell two ids apart on the page."""


class BotRun(CamelModel):
    run_id: UUID
    mode: str = Field(description="paper or live (this platform trades paper only)")
    started_ms: int


class BotLease(CamelModel):
    holder: str = Field(description="the bot process holding the lease: host, pid and a per-service suffix")
    acquired_ms: int
    renewed_ms: int = Field(description="when its last kline was handled (or the lease taken)")


class BotEvent(CamelModel):
    event_id: UUID
    kind: str = Field(description="started, stopped, paused, resumed or flattened")
    detail: str
    run_id: UUID | None = Field(description="the run it happened in; null when the bot had none")
    ts_ms: int


class Bot(CamelModel):
    bot_id: UUID
    name: str = Field(description="strategy, symbol and timeframe (and the end of the id when shared)")
    strategy: str
    symbol: str
    market: Market
    tf: str
    params: dict[str, Any]
    desired_state: str = Field(description="running, paused or stopped")
    created_ms: int
    run: BotRun | None = Field(description="the run it has running; null when no process runs it")
    lease: BotLease | None = Field(description="who holds its lease; null when no process holds it")
    last_event: BotEvent | None = Field(description="its newest lifecycle event; null before any")


class BotList(CamelModel):
    items: list[Bot]


class BotEventPage(CamelModel):
    items: list[BotEvent]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


def id_tail(value: UUID) -> str:
    """The distinguishing end of an id."""
    return str(value)[-ID_TAIL:]


def bot_names(rows: Sequence[asyncpg.Record]) -> list[str]:
    """Each bot's name; names two bots would share carry the end of each id."""
    base = [f"{r['strategy']} {r['symbol']} {r['tf']}" for r in rows]
    shared = {name for name, count in Counter(base).items() if count > 1}
    return [f"{n} …{id_tail(r['bot_id'])}" if n in shared else n for n, r in zip(base, rows, strict=True)]


@router.get("/bots", operation_id="listBots", response_model=BotList, response_model_by_alias=True)
async def list_bots(api: Annotated[Backend, Depends(backend)]) -> BotList:
    """Every configured bot, oldest first, with its display name and configuration."""
    rows = await fetch_bot_configs(api.pool)
    return BotList(
        items=[
            Bot(
                bot_id=r["bot_id"],
                name=name,
                strategy=r["strategy"],
                symbol=r["symbol"],
                market=Market(r["market"]),
                tf=r["tf"],
                params=json.loads(r["params"]),
                desired_state=r["desired_state"],
                created_ms=r["created_ms"],
                run=None
                if r["run_id"] is None
                else BotRun(run_id=r["run_id"], mode=r["run_mode"], started_ms=r["run_started_ms"]),
                lease=None
                if r["lease_holder"] is None
                else BotLease(
                    holder=r["lease_holder"],
                    acquired_ms=r["lease_acquired_ms"],
                    renewed_ms=r["lease_renewed_ms"],
                ),
                last_event=None
                if r["event_id"] is None
                else BotEvent(
                    event_id=r["event_id"],
                    kind=r["event_kind"],
                    detail=r["event_detail"],
                    run_id=r["event_run_id"],
                    ts_ms=r["event_ts_ms"],
                ),
            )
            for r, name in zip(rows, bot_names(rows), strict=True)
        ]
    )


@router.get(
    "/bots/{botId}/events",
    operation_id="listBotEvents",
    response_model=BotEventPage,
    response_model_by_alias=True,
    responses={404: {"description": "no such bot"}},
)
async def list_bot_events(
    api: Annotated[Backend, Depends(backend)],
    bot_id: Annotated[UUID, Path(alias="botId")],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> BotEventPage:
    """A bot's lifecycle newest first: its runs started and stopped, the pauses, resumes and flattens
    the executor applied; a page ends where `nextCursor` says to go on."""
    rows = await fetch_bot_events(api.pool, bot_id, before=cursor, limit=limit + 1)
    if rows is None:
        raise HTTPException(status_code=404, detail=f"no bot {bot_id}")
    shown, next_cursor = split_page(rows, limit, lambda r: r["id"])
    events = [
        BotEvent(event_id=r["id"], kind=r["kind"], detail=r["detail"], run_id=r["run_id"], ts_ms=r["ts_ms"])
        for r in shown
    ]
    return BotEventPage(items=events, next_cursor=next_cursor)

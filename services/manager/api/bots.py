"""`GET /bots`: every configured bot with a name a person can tell apart, from `trading.bot_configs`.

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
from fastapi import APIRouter, Depends
from pydantic import Field

from schemas.common import Market
from services.manager.api.backend import Backend, backend
from services.manager.api.models import CamelModel
from services.manager.api.readmodels import fetch_bot_configs

router = APIRouter(tags=["trading"])

ID_TAIL = 6
"""How many of an id's last characters tell two ids apart on the page."""


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


class BotList(CamelModel):
    items: list[Bot]


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
            )
            for r, name in zip(rows, bot_names(rows), strict=True)
        ]
    )

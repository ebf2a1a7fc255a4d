"""`GET /fills`: fills newest first in keyset pages, each with the position it left (fills projection)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from schemas.common import Symbol
from services.manager.api.backend import Backend, backend
from services.manager.api.models import FillPage, FillView
from services.manager.api.paging import Cursor, Limit, split_page
from services.manager.api.readmodels import fetch_fills

router = APIRouter(tags=["trading"])

LIST_LINKS = {
    "FirstFillsOrder": {
        "operationId": "getOrder",
        "parameters": {"orderId": "$response.body#/items/0/orderId"},
        "description": "the order the first fill of the page belongs to",
    },
}


@router.get(
    "/fills",
    operation_id="listFills",
    response_model=FillPage,
    response_model_by_alias=True,
    responses={200: {"links": LIST_LINKS}},
)
async def list_fills(
    api: Annotated[Backend, Depends(backend)],
    bot_id: Annotated[UUID | None, Query(alias="botId", description="only this bot's fills")] = None,
    symbol: Annotated[Symbol | None, Query(description="only fills in this symbol")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> FillPage:
    """Fills newest first (fill ids are UUIDv7); a page ends where `nextCursor` says to go on."""
    rows = await fetch_fills(api.pool, bot_id, symbol, before=cursor, limit=limit + 1)
    shown, next_cursor = split_page(rows, limit, lambda r: r.fill_id)
    return FillPage(items=[FillView.of(r) for r in shown], next_cursor=next_cursor)

"""`GET /positions`: every bot's position per symbol, optionally one bot's."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.manager.api.backend import Backend, backend
from services.manager.api.models import Position, PositionList
from services.manager.api.readmodels import fetch_positions

router = APIRouter(tags=["trading"])


@router.get(
    "/positions", operation_id="listPositions", response_model=PositionList, response_model_by_alias=True
)
async def list_positions(
    api: Annotated[Backend, Depends(backend)],
    bot_id: Annotated[UUID | None, Query(alias="botId", description="only this bot's positions")] = None,
) -> PositionList:
    """Positions by bot and symbol, from the positions projection."""
    return PositionList(items=[Position.of(s) for s in await fetch_positions(api.pool, bot_id)])

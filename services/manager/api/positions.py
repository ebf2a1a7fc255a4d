"""`GET /positions`: every bot's position per symbol, optionally one bot's, marked at the last 1m close."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from domain.positions import PositionState, quantize, unrealized_pnl
from services.manager.api.backend import Backend, backend
from services.manager.api.models import Position, PositionList, decimal_text
from services.manager.api.readmodels import Mark, fetch_marks, fetch_positions

router = APIRouter(tags=["trading"])


@router.get(
    "/positions", operation_id="listPositions", response_model=PositionList, response_model_by_alias=True
)
async def list_positions(
    api: Annotated[Backend, Depends(backend)],
    bot_id: Annotated[UUID | None, Query(alias="botId", description="only this bot's positions")] = None,
) -> PositionList:
    """Positions by bot and symbol, from the positions projection, each with its mark price (the last 1m
    close, as the risk service marks equity) and the unrealized PnL at it."""
    states = await fetch_positions(api.pool, bot_id)
    marks = await fetch_marks(api.pool, ((s.market, s.symbol) for s in states))
    return PositionList(items=[_marked(s, marks.get((s.market, s.symbol))) for s in states])


def _marked(state: PositionState, mark: Mark | None) -> Position:
    if mark is None:
        return Position.of(state, mark_price=None, mark_ms=None, unrealized_pnl=None)
    unrealized = quantize(unrealized_pnl(state, Decimal(str(mark.price))))
    return Position.of(
        state, mark_price=mark.price, mark_ms=mark.close_ms, unrealized_pnl=decimal_text(unrealized)
    )

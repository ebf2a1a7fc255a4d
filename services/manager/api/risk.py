"""`GET /risk`: the halt latch (risk_state projection) and the breaker events the manager has seen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.manager.api.backend import Backend, backend
from services.manager.api.models import BreakerChange, Latch, RiskView
from services.manager.api.readmodels import fetch_latch
from services.risk.halt import GLOBAL

router = APIRouter(tags=["risk"])


@router.get("/risk", operation_id="getRisk", response_model=RiskView, response_model_by_alias=True)
async def risk_state(api: Annotated[Backend, Depends(backend)]) -> RiskView:
    """The global latch and the recent breaker events (newest first)."""
    latch = await fetch_latch(api.pool, GLOBAL)
    recent = [BreakerChange.of(e) for e in reversed(api.deps.recent.list())]
    return RiskView(latch=Latch.of(latch), recent_events=recent)

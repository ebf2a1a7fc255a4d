"""`GET /klines`: one symbol's candles from `market_data.v_klines_reader`, for the operator page's price
chart (the newest ones, or those after the last it has: the page asks again every few seconds, since the
live feed carries no klines)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from schemas.common import Market, Symbol, Timeframe
from services.manager.api.backend import Backend, backend
from services.manager.api.models import CamelModel, decimal_text
from services.manager.api.readmodels import fetch_klines

router = APIRouter(tags=["market"])

MAX_KLINES = 1000


class Candle(CamelModel):
    open_time_ms: int
    close_time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: str


class CandleList(CamelModel):
    items: list[Candle]


@router.get("/klines", operation_id="listKlines", response_model=CandleList, response_model_by_alias=True)
async def list_klines(
    api: Annotated[Backend, Depends(backend)],
    symbol: Annotated[Symbol, Query(description="Binance-native symbol, e.g. BTCUSDT")],
    market: Annotated[Market, Query(description="spot or perp")] = Market.SPOT,
    tf: Annotated[Timeframe, Query(description="candle timeframe")] = Timeframe.M1,
    after: Annotated[
        int | None, Query(ge=0, description="only candles opened after this time (UTC milliseconds)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_KLINES, description="at most this many")] = 300,
) -> CandleList:
    """Candles oldest first: the newest `limit`, or with `after` the first `limit` opened after it."""
    rows = await fetch_klines(api.pool, market, symbol, tf, after=after, limit=limit)
    return CandleList(
        items=[
            Candle(
                open_time_ms=r["open_time_ms"],
                close_time_ms=r["close_time_ms"],
                open=r["open"],
                high=r["high"],
                low=r["low"],
                close=r["close"],
                volume=decimal_text(r["volume"]),
            )
            for r in rows
        ]
    )

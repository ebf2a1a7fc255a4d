"""`GET /orders` (filter by bot and status, keyset pages newest first) and `GET /orders/{orderId}`."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from domain.orders import OrderStatus
from services.manager.api.backend import Backend, backend
from services.manager.api.models import Order, OrderPage
from services.manager.api.paging import Cursor, Limit, split_page
from services.manager.api.readmodels import fetch_order, fetch_orders

router = APIRouter(tags=["trading"])

LIST_LINKS = {
    "GetFirstOrder": {
        "operationId": "getOrder",
        "parameters": {"orderId": "$response.body#/items/0/orderId"},
        "description": "the first order of the page, by id",
    },
    "FirstOrdersBotPositions": {
        "operationId": "listPositions",
        "parameters": {"botId": "$response.body#/items/0/botId"},
        "description": "the positions of the first order's bot",
    },
}


@router.get(
    "/orders",
    operation_id="listOrders",
    response_model=OrderPage,
    response_model_by_alias=True,
    responses={200: {"links": LIST_LINKS}},
)
async def list_orders(
    api: Annotated[Backend, Depends(backend)],
    bot_id: Annotated[UUID | None, Query(alias="botId", description="only this bot's orders")] = None,
    status: Annotated[OrderStatus | None, Query(description="only orders in this status")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> OrderPage:
    """Orders newest first (order ids are UUIDv7); a page ends where `nextCursor` says to go on."""
    states = await fetch_orders(api.pool, bot_id, status, before=cursor, limit=limit + 1)
    shown, next_cursor = split_page(states, limit, lambda s: s.order_id)
    return OrderPage(items=[Order.of(s) for s in shown], next_cursor=next_cursor)


@router.get(
    "/orders/{orderId}",
    operation_id="getOrder",
    response_model=Order,
    response_model_by_alias=True,
    responses={404: {"description": "no such order"}},
)
async def get_order(
    api: Annotated[Backend, Depends(backend)], order_id: Annotated[UUID, Path(alias="orderId")]
) -> Order:
    """One order by id."""
    state = await fetch_order(api.pool, order_id)
    if state is None:
        raise HTTPException(404, f"no order {order_id}")
    return Order.of(state)

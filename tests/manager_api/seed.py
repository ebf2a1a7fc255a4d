"""Rows for the manager API tests: orders and positions written straight into the live generations'
tables (what the projection runners would write), read back through the trading.* views."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import asyncpg

from domain.orders import OrderState, OrderStatus
from domain.positions import PositionState
from projections.orders import TABLE as ORDERS
from projections.positions import TABLE as POSITIONS
from registry.ids import uuid7
from schemas.common import Market, OrderType, Side

BOT_A = UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60")
BOT_B = UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f61")
T0 = 1_700_000_000_000


def order(bot: UUID, i: int, status: OrderStatus) -> OrderState:
    return OrderState(
        order_id=uuid7(T0 + i),
        bot_id=bot,
        intent_id=uuid7(T0 + i),
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal("0.01"),
        limit_price=None,
        status=status,
        filled_qty=Decimal("0.01") if status is OrderStatus.FILLED else Decimal("0"),
        reason="",
        version=1,
        created_ms=T0 + i,
        updated_ms=T0 + i,
    )


async def store(database: str, orders: list[OrderState], positions: list[PositionState]) -> None:
    conn = await asyncpg.connect(database)
    try:
        if orders:
            await conn.executemany(ORDERS.upsert("proj_orders_1"), [ORDERS.row(o) for o in orders])
        if positions:
            await conn.executemany(
                POSITIONS.upsert("proj_positions_1"), [POSITIONS.row(p) for p in positions]
            )
    finally:
        await conn.close()

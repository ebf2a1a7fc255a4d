"""The orders read model: one row per order with its status and filled quantity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg

from domain.orders import OrderState, apply_order
from projections.base import Projection
from projections.rows import Table
from registry.event import Event
from schemas.trading import ORDERS, OrderEvent

TABLE = Table(OrderState, "orders", ["order_id"])


class OrdersProjection(Projection[UUID, OrderState]):
    name = "orders"
    subject = ORDERS
    view = "orders"

    def ddl(self, schema: str) -> list[str]:
        return [
            f"""CREATE TABLE {schema}.orders (
                order_id uuid PRIMARY KEY,
                bot_id uuid NOT NULL,
                intent_id uuid NOT NULL,
                symbol text NOT NULL,
                market text NOT NULL CHECK (market IN ('spot', 'perp')),
                side text NOT NULL CHECK (side IN ('buy', 'sell')),
                order_type text NOT NULL CHECK (order_type IN ('market', 'limit')),
                qty numeric NOT NULL,
                limit_price double precision,
                status text NOT NULL CHECK (status IN
                    ('submitted', 'acked', 'partially_filled', 'filled', 'rejected', 'cancelled')),
                filled_qty numeric NOT NULL,
                reason text NOT NULL,
                version integer NOT NULL,
                created_ms bigint NOT NULL,
                updated_ms bigint NOT NULL
            )""",
            f"CREATE INDEX ON {schema}.orders (bot_id, status)",
        ]

    def key(self, event: Event) -> UUID:
        assert isinstance(event, OrderEvent)
        return event.order_id

    def version(self, event: Event) -> int:
        assert isinstance(event, OrderEvent)
        return event.version

    def state_version(self, state: OrderState) -> int:
        return state.version

    def fold(self, state: OrderState | None, event: Event) -> OrderState:
        assert isinstance(event, OrderEvent)
        return apply_order(state, event)

    async def load(
        self, conn: asyncpg.Connection, schema: str, keys: Sequence[UUID]
    ) -> dict[UUID, OrderState]:
        return {r[0]: TABLE.state(r) for r in await conn.fetch(TABLE.select(schema), list(keys))}

    async def save(self, conn: asyncpg.Connection, schema: str, states: Mapping[UUID, OrderState]) -> None:
        await TABLE.save(conn, schema, states.values())

    @property
    def order_by(self) -> str:
        return "order_id"

"""The risk-state read model: the halt latch, folded from breaker trips and resumes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import asyncpg

from domain.latch import LatchState, apply_latch
from projections.base import Projection
from projections.rows import Table
from registry.event import Event
from schemas.risk import RISK_EVENTS, BreakerEvent

TABLE = Table(LatchState, "risk_state", ["latch_id"])


class LatchProjection(Projection[str, LatchState]):
    name = "risk_state"
    subject = RISK_EVENTS
    view = "risk_state"

    def ddl(self, schema: str) -> list[str]:
        return [
            f"""CREATE TABLE {schema}.risk_state (
                latch_id text PRIMARY KEY,
                halted boolean NOT NULL,
                breaker text,
                reason text NOT NULL,
                version integer NOT NULL,
                changed_ms bigint NOT NULL,
                trips integer NOT NULL
            )"""
        ]

    def key(self, event: Event) -> str:
        assert isinstance(event, BreakerEvent)
        return event.latch_id

    def version(self, event: Event) -> int:
        assert isinstance(event, BreakerEvent)
        return event.version

    def state_version(self, state: LatchState) -> int:
        return state.version

    def fold(self, state: LatchState | None, event: Event) -> LatchState:
        assert isinstance(event, BreakerEvent)
        return apply_latch(state, event)

    async def load(self, conn: asyncpg.Connection, schema: str, keys: Sequence[str]) -> dict[str, LatchState]:
        return {r[0]: TABLE.state(r) for r in await conn.fetch(TABLE.select(schema), list(keys))}

    async def save(self, conn: asyncpg.Connection, schema: str, states: Mapping[str, LatchState]) -> None:
        await TABLE.save(conn, schema, states.values())

    @property
    def order_by(self) -> str:
        return "latch_id"

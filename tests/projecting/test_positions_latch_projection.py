"""Positions and the risk latch folded from the stream equal the same events folded in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient

from domain.latch import apply_latch
from domain.positions import apply_fill
from projections.catalog import PROJECTIONS
from schemas.common import bot_token
from schemas.risk import Breaker, BreakerEvent, LatchAction
from tests.projecting.helpers import fills, fresh_id, history_has, publish, rows, run_until_caught_up, start


@pytest.mark.parametrize("seed", [7, 2026])
async def test_positions_from_the_stream_equal_the_in_memory_fold(
    seed: int,
    database: str,
    dsn_for: Callable[[str, str], str],
    nats: NatsClient,
    fresh_bus: Callable[[], Awaitable[None]],
) -> None:
    await fresh_bus()
    projector = await start(database, dsn_for, "positions")
    js = nats.jetstream()
    events = fills(seed, 300)
    for fill in events:
        await publish(js, f"trading.fills.{bot_token(fill.bot_id)}", fill)
    for fill in events[:20]:  # redelivered with new sequences
        await publish(js, f"trading.fills.{bot_token(fill.bot_id)}", fill, msg_id=fresh_id())
    await history_has(js, 320)
    stats = await run_until_caught_up(PROJECTIONS["positions"], projector, js)
    assert (stats.applied, stats.duplicates) == (300, 20)
    expected: dict[Any, Any] = {}
    for fill in events:
        key = (fill.bot_id, fill.symbol)
        expected[key] = apply_fill(expected.get(key), fill)
    got = await rows(database, "SELECT * FROM trading.positions")
    assert {(r["bot_id"], r["symbol"]): dict(r) for r in got} == {
        k: {**vars(v), "market": v.market.value} for k, v in expected.items()
    }


async def test_latch_trips_and_resumes(
    database: str,
    dsn_for: Callable[[str, str], str],
    nats: NatsClient,
    fresh_bus: Callable[[], Awaitable[None]],
) -> None:
    await fresh_bus()
    projector = await start(database, dsn_for, "risk_state")
    js = nats.jetstream()
    actions = [
        (Breaker.DRAWDOWN, LatchAction.TRIP),
        (Breaker.CONNECTIVITY, LatchAction.TRIP),
        (Breaker.MANUAL, LatchAction.RESUME),
        (Breaker.VPIN, LatchAction.TRIP),
    ]
    events = [
        BreakerEvent(version=i, breaker=b, action=a, message=f"{b} {a}", ts_ms=100 * i)
        for i, (b, a) in enumerate(actions, start=1)
    ]
    for e in events:
        await publish(js, f"risk.events.{e.breaker.value}", e)
    await history_has(js, 4)
    await run_until_caught_up(PROJECTIONS["risk_state"], projector, js)
    state = None
    for e in events:
        state = apply_latch(state, e)
    (row,) = await rows(database, "SELECT * FROM trading.risk_state")
    assert state is not None
    assert (row["halted"], row["breaker"], row["version"], row["trips"]) == (
        True,
        "vpin",
        4,
        state.trips,
    )
    assert state.trips == 1, "trips since the last resume"

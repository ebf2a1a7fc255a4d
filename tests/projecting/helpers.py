"""Shared helpers for projection tests: publish events straight to the bus, run a runner for a while."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import asyncpg
from nats.js import JetStreamContext

from projections import generations
from projections.base import Projection
from projections.catalog import PROJECTIONS
from projections.runner import Runner, RunnerConfig, RunnerStats
from registry import headers as h
from registry.event import Event
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.common import Market, Side
from schemas.trading import Fill, Liquidity

FAST = RunnerConfig(batch_size=100, gap_timeout_s=1.0)


async def publish(js: JetStreamContext, subject: str, event: Event, msg_id: str | None = None) -> int:
    """Publish `event` to gordon-bus (the history stream sources it); returns its bus sequence."""
    codec = REGISTRY.codec(REGISTRY.match(subject))
    ack = await js.publish(subject, codec.encode(event), headers={h.MSG_ID: msg_id or str(event.event_id)})
    return ack.seq


async def history_has(js: JetStreamContext, count: int) -> None:
    for _ in range(200):
        if (await js.stream_info(REGISTRY.history.name)).state.messages >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"gordon-history never reached {count} messages")


async def run_until_caught_up(
    projection: Projection[Any, Any], dsn: str, js: JetStreamContext, config: RunnerConfig = FAST
) -> RunnerStats:
    """Run a live runner until it has consumed everything the history stream holds, once the history
    has sourced every message the live stream holds on its subjects (sourcing lags under load)."""
    last = await history_caught_up(js)
    runner = Runner(projection, dsn, js, REGISTRY, config)
    return await runner.run(asyncio.Event(), until_seq=last)


async def history_caught_up(js: JetStreamContext, timeout_s: float = 30.0) -> int:
    """The history stream's last sequence once it holds every message of its sourced subjects that the
    live stream holds."""
    want = 0
    for subjects in REGISTRY.history.sourced_subjects:
        info = await js.stream_info(REGISTRY.bus.name, subjects_filter=subjects)
        want += sum((info.state.subjects or {}).values())
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        state = (await js.stream_info(REGISTRY.history.name)).state
        if state.messages >= want:
            return state.last_seq
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"history holds {state.messages} of {want} messages after {timeout_s} s")
        await asyncio.sleep(0.02)


async def rows(dsn: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


def fresh_id() -> str:
    return str(uuid7())


Check = Callable[[], Awaitable[bool]]


def fills(seed: int, count: int) -> list[Fill]:
    """A seeded random walk of fills for two bots on two symbols (gapless versions per position)."""
    rng = random.Random(seed)
    bots = [uuid7(), uuid7()]
    versions: dict[tuple[Any, str], int] = {}
    out = []
    for _ in range(count):
        bot, symbol = rng.choice(bots), rng.choice(["BTCUSDT", "ETHUSDT"])
        version = versions[(bot, symbol)] = versions.get((bot, symbol), 0) + 1
        out.append(
            Fill(
                fill_id=uuid7(),
                bot_id=bot,
                order_id=uuid7(),
                version=version,
                symbol=symbol,
                market=Market.SPOT,
                side=rng.choice([Side.BUY, Side.SELL]),
                qty=Decimal(rng.randint(1, 500)) / 1000,
                price=round(rng.uniform(90.0, 110.0), 2),
                fee=Decimal(rng.randint(0, 90)) / 1000,
                fee_asset="USDT",
                liquidity=Liquidity.TAKER,
                ts_ms=1_000 + len(out),
            )
        )
    return out


async def start(database: str, dsn_for: Callable[[str, str], str], name: str) -> str:
    """The projection's live generation made (as `gordon up` does); returns the projector's URL."""
    conn = await asyncpg.connect(database)
    try:
        await generations.ensure_live(conn, PROJECTIONS[name])
    finally:
        await conn.close()
    return dsn_for(database, "gordon_projector")

"""The live view samples real servers: rates per subject template, backlog, lag, positions, latch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from nats.aio.client import Client as NatsClient
from rich.console import Console

from bench.samples import samples
from gordon.view import Sampler, render
from producers.channels import RISK_COMMANDS
from producers.outbox import Outbox
from projections import generations
from projections.catalog import PROJECTIONS
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.market import Kline
from schemas.risk import RiskCommand
from tests.projecting.helpers import publish


async def test_sampler_and_render(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    conn = await asyncpg.connect(database)
    for projection in PROJECTIONS.values():
        await generations.ensure_live(conn, projection)
    async with conn.transaction():
        await Outbox(REGISTRY, Service.RISK).publish_within(conn, RISK_COMMANDS(), samples()[RiskCommand])
    sampler = Sampler(nats, conn)
    await sampler.start()
    js = nats.jetstream()
    for _ in range(3):
        kline = samples()[Kline]
        await publish(
            js, "market.klines.binance.spot.btcusdt.1m", kline.model_copy(update={"event_id": uuid7()})
        )
    await asyncio.sleep(0.2)
    snap = await sampler.sample()
    assert snap.rates["market.klines.binance.{market}.{symbol_lc}.{tf}"] > 0
    assert snap.backlog == 1
    assert {name for name, _, _ in snap.projections} == set(PROJECTIONS)
    assert snap.latch is None
    console = Console(record=True, width=120)
    console.print(render(snap))
    text = console.export_text()
    assert "outbox backlog" in text
    assert "risk latch: no latch events yet" in text
    await conn.close()

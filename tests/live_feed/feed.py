"""What the live-feed tests share: events of the three families, publishing them onto gordon-bus the way
the executor and risk do, a started manager service, its /ws served by real granian, and a client."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from nats.js import JetStreamContext
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from producers.channels import FILLS, ORDERS, RISK_EVENTS
from producers.publisher import NatsPublisher
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import Market, OrderType, Side, bot_token
from schemas.risk import Breaker, BreakerEvent, LatchAction
from schemas.trading import Fill, Liquidity, OrderEvent, OrderEventKind
from services.manager.api.live import live_router
from services.manager.service import ManagerService, build
from tests.browser.serving import serve_asgi_app

BOT = UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60")
TS = 1_700_000_000_000


def fill(version: int, bot: UUID = BOT) -> Fill:
    return Fill(
        fill_id=uuid7(),
        bot_id=bot,
        order_id=uuid7(),
        version=version,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY,
        qty=Decimal("0.01"),
        price=50_000.0 + version,
        fee=Decimal("0.5"),
        fee_asset="USDT",
        liquidity=Liquidity.TAKER,
        ts_ms=TS + version,
    )


def order(version: int, bot: UUID = BOT) -> OrderEvent:
    return OrderEvent(
        order_id=uuid7(),
        version=version,
        kind=OrderEventKind.SUBMITTED,
        bot_id=bot,
        intent_id=uuid7(),
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal("0.01"),
        filled_qty=Decimal("0"),
        ts_ms=TS + version,
    )


def breaker(version: int) -> BreakerEvent:
    return BreakerEvent(
        version=version,
        breaker=Breaker.DRAWDOWN,
        action=LatchAction.TRIP,
        value=0.06,
        threshold=0.05,
        message=f"trip {version}",
        ts_ms=TS + version,
    )


class Bus:
    """Publishes onto gordon-bus as the executor (fills, orders) and risk (breaker events) do."""

    def __init__(self, js: JetStreamContext) -> None:
        self.executor = NatsPublisher(REGISTRY, Service.EXECUTOR, js)
        self.risk = NatsPublisher(REGISTRY, Service.RISK, js)

    async def fill(self, event: Fill) -> int:
        ack = await self.executor.publish(FILLS(bot_id=bot_token(event.bot_id)), event)
        return int(ack.seq)

    async def order(self, event: OrderEvent) -> int:
        ack = await self.executor.publish(ORDERS(bot_id=bot_token(event.bot_id)), event)
        return int(ack.seq)

    async def breaker(self, event: BreakerEvent) -> int:
        ack = await self.risk.publish(RISK_EVENTS(breaker=event.breaker.value), event)
        return int(ack.seq)

    async def mixed(self, count: int, start: int = 1) -> list[int]:
        """`count` events cycling fill, order, breaker; their stream sequences."""
        seqs = []
        for n in range(start, start + count):
            if n % 3 == 1:
                seqs.append(await self.fill(fill(n)))
            elif n % 3 == 2:
                seqs.append(await self.order(order(n)))
            else:
                seqs.append(await self.breaker(breaker(n)))
        return seqs


@contextlib.asynccontextmanager
async def running_manager(nats_url: str, database: str) -> AsyncIterator[ManagerService]:
    """The manager service (its three durables feeding `live`), started and stopped around the block."""
    service = build(nats_url=nats_url, database_url=database)
    await service.app.start()
    try:
        yield service
    finally:
        await service.app.stop()


def feed_app(service: ManagerService) -> FastAPI:
    """A bare app with only the live routes (the API's create_app adds them the same way)."""
    app = FastAPI()
    app.include_router(live_router(service.live))
    return app


@contextlib.asynccontextmanager
async def served(service: ManagerService) -> AsyncIterator[str]:
    """The live routes served by real granian; yields the ws:// base URL."""
    async with serve_asgi_app(feed_app(service)) as base:
        yield base.replace("http://", "ws://")


async def receive(ws: ClientConnection, count: int, timeout_s: float = 20.0) -> list[dict[str, Any]]:
    """The next `count` feed messages, decoded."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while len(got) < count:
            got.append(json.loads(await ws.recv()))
    return got


def connect(url: str, **options: Any) -> ws_connect:
    """A websockets client connection to `url` (use with `async with`)."""
    return ws_connect(url, open_timeout=10, close_timeout=5, **options)

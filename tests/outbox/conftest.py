"""Fixtures for outbox and drain tests: a migrated database, fresh streams, a drain in the background."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from producers.channels import ORDERS
from producers.drain.batch import Publish
from producers.drain.config import DrainConfig
from producers.drain.pipeline import Send
from producers.drain.worker import Drain
from producers.outbox import Outbox
from registry import headers as h
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.common import Market, OrderType, Side, bot_token
from schemas.trading import OrderEvent, OrderEventKind

EXECUTOR = Outbox(REGISTRY, ORDERS.subject.producer)
BOT = uuid7()
FAST = DrainConfig(
    batch_size=200, ack_timeout_s=2.0, retry_first_s=0.05, retry_max_s=0.5, standby_poll_s=0.05
)


def order_event(order_id: UUID, version: int) -> OrderEvent:
    """Version `version` of order `order_id` (the aggregate the ordering tests follow)."""
    return OrderEvent(
        order_id=order_id,
        version=version,
        kind=OrderEventKind.SUBMITTED if version == 1 else OrderEventKind.ACKED,
        bot_id=BOT,
        intent_id=order_id,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal("0.01"),
        filled_qty=Decimal("0"),
        ts_ms=version,
    )


async def write(conn: asyncpg.Connection, event: OrderEvent) -> None:
    """Insert one order event through publish_within in its own transaction."""
    async with conn.transaction():
        await EXECUTOR.publish_within(conn, ORDERS(bot_id=bot_token(BOT)), event)


@dataclass(frozen=True)
class Stored:
    """One message as the stream holds it."""

    seq: int
    subject: str
    msg_id: str
    headers: dict[str, str]
    data: bytes


async def stored(js: JetStreamContext, stream: str = "gordon-bus") -> list[Stored]:
    """Every message in `stream`, in stream order."""
    info = await js.stream_info(stream)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        headers = dict(msg.headers or {})
        out.append(Stored(seq, msg.subject or "", headers.get(h.MSG_ID, ""), headers, msg.data or b""))
    return out


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str, seconds: float = 30.0) -> None:
    """Poll `condition` until true; fail naming `what` after a generous `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def count_unpublished(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL"))
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def running(
    dsn: str,
    nats: NatsClient,
    config: DrainConfig = FAST,
    send: Send | None = None,
    name: str = "drain",
    publish: Publish | None = None,
) -> AsyncIterator[Drain]:
    """A drain running in the background for the body of the `async with` (`publish`: a core publish
    under its fast batches; `send`: a per-message publish, which turns fast batches off)."""
    drain = Drain(dsn, nats, config, send=send, publish=publish, name=name)
    stop = asyncio.Event()
    task = asyncio.create_task(drain.run(stop))
    try:
        yield drain
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def conn(database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database)
    try:
        yield connection
    finally:
        await connection.close()

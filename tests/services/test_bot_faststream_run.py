"""`faststream run services.bot:app` as a process, configured by GORDON_NATS_URL and
GORDON_DATABASE_URL only: it loads the running bot, creates its durable and writes an intent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from producers.channels import KLINES
from producers.envelope import wire_headers
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.common import Market, Timeframe
from schemas.market import KLINES as KLINES_SUBJECT
from schemas.market import Kline

ROOT = Path(__file__).resolve().parents[2]
FASTSTREAM = Path(sys.executable).parent / "faststream"
MIN = 60_000
T0 = 1_700_000_040_000
WAIT_S = 30.0


@contextlib.asynccontextmanager
async def faststream_run(nats_url: str, database: str) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {**os.environ, "GORDON_NATS_URL": nats_url, "GORDON_DATABASE_URL": database}
    process = await asyncio.create_subprocess_exec(
        str(FASTSTREAM),
        "run",
        "services.bot:app",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, process: asyncio.subprocess.Process
) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not await check():
        if process.returncode is not None:
            err = await process.stderr.read() if process.stderr else b""
            raise AssertionError(f"faststream exited {process.returncode}: {err.decode()[-2000:]}")
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_faststream_run_serves_the_running_bots(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], nats_url: str, database: str
) -> None:
    await fresh_bus()
    js: JetStreamContext = nats.jetstream()
    owner = await asyncpg.connect(database)
    try:
        bot_id = uuid7()
        await owner.execute(
            """INSERT INTO trading.bot_configs (bot_id, symbol, market, tf, strategy, params, created_ms)
               VALUES ($1, 'BTCUSDT', 'spot', '1m', 'sma_cross', $2::jsonb, 0)""",
            bot_id,
            json.dumps({"fast": 2, "slow": 3, "qty": "0.5"}),
        )
        for i, close in enumerate([12.0, 11.0, 10.0]):
            await owner.execute(
                """INSERT INTO market_data.spot_klines (symbol, tf, open_time_ms, close_time_ms, open, high,
                       low, close, volume, quote_volume, trades) VALUES ('BTCUSDT', '1m', $1, $2, $3, $3, $3,
                       $3, 1, 1, 1)""",
                T0 + i * MIN,
                T0 + (i + 1) * MIN - 1,
                close,
            )
        durable = f"bot-{bot_id}-spot-btcusdt-1m-klines"

        async def durable_exists() -> bool:
            try:
                await js.consumer_info("gordon-bus", durable)
            except NotFoundError:
                return False
            return True

        async def intent_written() -> bool:
            return bool(await owner.fetchval("SELECT count(*) FROM trading.order_intents"))

        async with faststream_run(nats_url, database) as process:
            await eventually(durable_exists, f"durable {durable}", process)
            candle = Kline(
                symbol="BTCUSDT",
                market=Market.SPOT,
                tf=Timeframe.M1,
                open_time_ms=T0 + 3 * MIN,
                close_time_ms=T0 + 4 * MIN - 1,
                open=14.0,
                high=14.0,
                low=14.0,
                close=14.0,
                volume=1,
                quote_volume=14,
                trades=1,
            )
            headers = wire_headers(str(candle.event_id), Kline.NAME, Kline.VERSION, "data", None)
            address = KLINES(market="spot", symbol_lc="btcusdt", tf="1m").concrete
            await js.publish(address, REGISTRY.codec(KLINES_SUBJECT).encode(candle), headers=headers)
            await eventually(intent_written, "an order intent", process)

        row = await owner.fetchrow("SELECT * FROM trading.order_intents")
        assert row is not None
        assert row["bot_id"] == bot_id
        assert row["side"] == "buy"
        assert row["valid_until_ms"] - row["created_ms"] == 30_000
        assert await owner.fetchval("SELECT count(*) FROM bus.outbox WHERE subject = 'intents.executor'") == 1
        assert process.returncode is not None
    finally:
        await owner.close()

"""The bot service end to end on real servers: klines on gordon-bus in, intents and outbox rows out.

Each test inserts a bot config and warm-up history as the owner, runs the service in-process with an
injected clock, publishes closed klines as gordon-data would, and waits until its durable has acked them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from producers.channels import KLINES
from producers.envelope import wire_headers
from projections.catalog import PROJECTIONS
from projections.generations import ensure_live, schema_of
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.common import Market, Timeframe
from schemas.intents import INTENTS, OrderIntent
from schemas.market import KLINES as KLINES_SUBJECT
from schemas.market import Kline
from services.bot.config import BotConfig
from services.bot.service import BotService, build
from services.runtime import NotConfigured
from tests.manual_clock import ManualClock

MIN = 60_000
T0 = 1_700_000_040_000  # a minute boundary
NOW = 1_700_000_500_000
ADDRESS = KLINES(market="spot", symbol_lc="btcusdt", tf="1m")
PARAMS = {"fast": 2, "slow": 3, "qty": "0.01"}
HISTORY = [12.0, 11.0, 10.0]  # windows full: fast 10.5 below slow 11
WAIT_S = 20.0


@pytest.fixture
async def js(nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]) -> JetStreamContext:
    await fresh_bus()
    return nats.jetstream()


async def add_bot(conn: asyncpg.Connection, params: dict[str, Any] = PARAMS, **row: str) -> UUID:
    bot_id = uuid7()
    values = {"symbol": "BTCUSDT", "market": "spot", "tf": "1m", "strategy": "sma_cross", **row}
    await conn.execute(
        """INSERT INTO trading.bot_configs
               (bot_id, symbol, market, tf, strategy, params, created_ms, desired_state)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)""",
        bot_id,
        values["symbol"],
        values["market"],
        values["tf"],
        values["strategy"],
        json.dumps(params),
        NOW,
        values.get("desired_state", "running"),
    )
    return bot_id


async def store_klines(
    conn: asyncpg.Connection, closes: list[float], start_ms: int, table: str = "spot_klines", **row: str
) -> None:
    symbol, tf = row.get("symbol", "BTCUSDT"), row.get("tf", "1m")
    for i, close in enumerate(closes):
        opened = start_ms + i * MIN
        await conn.execute(
            f"""INSERT INTO market_data.{table} (symbol, tf, open_time_ms, close_time_ms, open, high, low,
                       close, volume, quote_volume, trades)
                VALUES ($1, $2, $3, $4, $5, $5, $5, $5, 1, $5::float8::numeric, 1)""",
            symbol,
            tf,
            opened,
            opened + MIN - 1,
            close,
        )


def kline(open_ms: int, close: float, *, closed: bool = True) -> Kline:
    return Kline(
        symbol="BTCUSDT",
        market=Market.SPOT,
        tf=Timeframe.M1,
        open_time_ms=open_ms,
        close_time_ms=open_ms + MIN - 1,
        open=close,
        high=close,
        low=close,
        close=close,
        volume=Decimal(1),
        quote_volume=Decimal(str(close)),
        trades=1,
        closed=closed,
    )


async def publish(js: JetStreamContext, candle: Kline) -> int:
    """Publish as the drain would (Msg-Id = event id); a redelivery is the same kline, a new event id."""
    headers = wire_headers(str(candle.event_id), Kline.NAME, Kline.VERSION, "data", None)
    data = REGISTRY.codec(KLINES_SUBJECT).encode(candle)
    ack = await js.publish(ADDRESS.concrete, data, headers=headers)
    assert not ack.duplicate
    return ack.seq


def durable(bot_id: UUID) -> str:
    return f"bot-{bot_id}-spot-btcusdt-1m-klines"


async def settle(js: JetStreamContext, bot_id: UUID, seq: int) -> None:
    """Wait until the bot's durable has acked everything up to stream sequence `seq`."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        info = await js.consumer_info("gordon-bus", durable(bot_id))
        if (info.ack_floor.stream_seq or 0) >= seq and not info.num_ack_pending:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"durable {durable(bot_id)} did not ack up to {seq}: {info}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(service: BotService) -> AsyncIterator[BotService]:
    await service.app.start()
    try:
        yield service
    finally:
        await service.app.stop()


def service_for(nats_url: str, database: str, clock: ManualClock, **kwargs: Any) -> BotService:
    return build(nats_url=nats_url, database_url=database, clock=clock, **kwargs)


async def intents(conn: asyncpg.Connection, bot_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM trading.order_intents WHERE bot_id = $1 ORDER BY created_ms, intent_id", bot_id
    )


async def outbox(conn: asyncpg.Connection) -> list[OrderIntent]:
    rows = await conn.fetch(
        "SELECT payload FROM bus.outbox WHERE subject = 'intents.executor' AND producer = 'bot' ORDER BY id"
    )
    codec = REGISTRY.codec(INTENTS)
    return [codec.decode(bytes(r["payload"])) for r in rows]


async def state_of(conn: asyncpg.Connection, bot_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT state, last_open_time_ms, updated_ms FROM trading.bot_strategy_state WHERE bot_id = $1",
        bot_id,
    )
    assert row is not None
    return row


async def test_a_warmed_up_bot_turns_a_golden_cross_into_an_intent_and_outbox_row(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    bot_id = await add_bot(owner)
    ignored = await add_bot(owner, strategy="rsi")  # not this service's strategy: skipped, not fatal
    paused = await add_bot(owner, desired_state="paused")
    # The live candle is stored too (data writes, then publishes): warm-up must take only those before it.
    await store_klines(owner, [*HISTORY, 14.0], T0)
    await store_klines(owner, [1.0, 1.0, 1.0], T0, symbol="ETHUSDT")  # other series: never read
    await store_klines(owner, [99.0, 99.0, 99.0], T0, tf="5m")
    await store_klines(owner, [99.0, 99.0, 99.0], T0, table="perp_klines")
    clock = ManualClock(NOW)

    async with running(service_for(nats_url, database, clock)) as service:
        assert set(service.runners) == {bot_id}
        assert ignored not in service.runners
        assert paused not in service.runners
        info = await js.consumer_info("gordon-bus", durable(bot_id))
        assert info.config.deliver_policy == DeliverPolicy.NEW
        assert info.config.filter_subject == "market.klines.binance.spot.btcusdt.1m"

        await settle(js, bot_id, await publish(js, kline(T0 + 3 * MIN, 14.0, closed=False)))
        assert await intents(owner, bot_id) == []  # a forming candle does nothing
        assert await owner.fetchval("SELECT count(*) FROM trading.bot_strategy_state") == 0

        await settle(js, bot_id, await publish(js, kline(T0 + 3 * MIN, 14.0)))

    (row,) = await intents(owner, bot_id)
    assert row["side"] == "buy"
    assert row["qty"] == Decimal("0.01")
    assert row["symbol"] == "BTCUSDT"
    assert row["market"] == "spot"
    assert row["order_type"] == "market"
    assert row["created_ms"] == NOW
    assert row["valid_until_ms"] == NOW + 30_000
    assert UUID(str(row["intent_id"])).version == 7
    (sent,) = await outbox(owner)
    assert sent.intent_id == row["intent_id"]
    assert sent.event_id == row["event_id"]
    assert sent.bot_id == bot_id
    assert sent.qty == Decimal("0.01")
    assert sent.valid_until_ms == NOW + 30_000
    state = await state_of(owner, bot_id)
    assert state["last_open_time_ms"] == T0 + 3 * MIN
    assert state["updated_ms"] == NOW
    assert json.loads(state["state"])["closes"] == [11.0, 10.0, 14.0]
    assert json.loads(state["state"])["last_signal"] == "buy"


async def test_redelivered_klines_change_nothing_and_state_survives_a_restart(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    bot_id = await add_bot(owner)
    await store_klines(owner, HISTORY, T0)
    clock = ManualClock(NOW)
    golden = kline(T0 + 3 * MIN, 14.0)

    async with running(service_for(nats_url, database, clock, validity_ms=5_000)):
        await settle(js, bot_id, await publish(js, golden))
        before = await state_of(owner, bot_id)
        clock.now += 1_000
        # The same candle again (as after the duplicate window: a new stream message), and an older one.
        await publish(js, golden.model_copy(update={"event_id": uuid7()}))
        await settle(js, bot_id, await publish(js, kline(T0 + 2 * MIN, 50.0)))
        assert await state_of(owner, bot_id) == before
        assert len(await intents(owner, bot_id)) == 1

    # Published while the service is down: the durable keeps them for the next start.
    await publish(js, kline(T0 + 4 * MIN, 8.0))
    last = await publish(js, kline(T0 + 5 * MIN, 6.0))  # death cross while long: sell
    clock.now += 1_000
    async with running(service_for(nats_url, database, clock, validity_ms=5_000)) as service:
        assert set(service.runners) == {bot_id}
        await settle(js, bot_id, last)
        info = await js.consumer_info("gordon-bus", durable(bot_id))
        assert info.config.deliver_policy == DeliverPolicy.NEW

    buy, sell = await intents(owner, bot_id)
    assert (buy["side"], buy["created_ms"], buy["valid_until_ms"]) == ("buy", NOW, NOW + 5_000)
    assert (sell["side"], sell["created_ms"]) == ("sell", NOW + 2_000)
    assert [i.side.value for i in await outbox(owner)] == ["buy", "sell"]
    state = await state_of(owner, bot_id)
    assert state["last_open_time_ms"] == T0 + 5 * MIN
    assert json.loads(state["state"])["closes"] == [14.0, 8.0, 6.0]


async def test_a_halted_latch_suppresses_intents_until_it_resumes(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    latch = PROJECTIONS["risk_state"]
    table = f"{schema_of(latch, await ensure_live(owner, latch))}.risk_state"
    await owner.execute(
        f"""INSERT INTO {table} (latch_id, halted, breaker, reason, version, changed_ms, trips)
            VALUES ('global', true, 'drawdown', 'test trip', 1, $1, 1)""",
        NOW,
    )
    bot_id = await add_bot(owner)
    await store_klines(owner, HISTORY, T0)
    clock = ManualClock(NOW)

    async with running(service_for(nats_url, database, clock)) as service:
        run_id = service.runs[bot_id]
        await settle(js, bot_id, await publish(js, kline(T0 + 3 * MIN, 14.0)))
        assert await intents(owner, bot_id) == []
        assert await outbox(owner) == []
        state = json.loads((await state_of(owner, bot_id))["state"])
        assert state["suppressed"] == 1
        assert state["last_suppressed"] == "buy: risk latch halted"
        assert state["last_signal"] is None  # still flat

        await owner.execute(f"UPDATE {table} SET halted = false, version = 2 WHERE latch_id = 'global'")
        # Flat, so the death cross at 6 sells nothing; the golden cross at 15 buys.
        for i, close in enumerate([8.0, 6.0]):
            await publish(js, kline(T0 + (4 + i) * MIN, close))
        await settle(js, bot_id, await publish(js, kline(T0 + 6 * MIN, 15.0)))

    (row,) = await intents(owner, bot_id)
    assert row["side"] == "buy"
    assert row["reason"] == f"sma 2/3 golden cross at candle {T0 + 6 * MIN}"
    assert [i.intent_id for i in await outbox(owner)] == [row["intent_id"]]
    # the strategy log has both signals, the held-back one with why, each in the bot's run
    signals = await owner.fetch("SELECT * FROM trading.signals ORDER BY candle_open_ms")
    assert [
        (s["candle_open_ms"], s["close"], s["side"], s["outcome"], s["reason"], s["intent_id"], s["run_id"])
        for s in signals
    ] == [
        (T0 + 3 * MIN, 14.0, "buy", "suppressed", "risk latch halted", None, run_id),
        (T0 + 6 * MIN, 15.0, "buy", "emitted", "", row["intent_id"], run_id),
    ]


async def test_explicit_bots_skip_the_database_and_a_new_bot_without_history_waits(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    bot_id = await add_bot(owner)  # no stored history: the windows fill from live klines
    row = await owner.fetchrow("SELECT * FROM trading.bot_configs WHERE bot_id = $1", bot_id)
    assert row is not None
    config = BotConfig.from_row(row)
    clock = ManualClock(NOW)
    async with running(service_for(nats_url, database, clock, bots=[config])) as service:
        assert set(service.runners) == {bot_id}
        last = 0
        for i, close in enumerate([12.0, 11.0, 10.0, 14.0]):
            last = await publish(js, kline(T0 + i * MIN, close))
        await settle(js, bot_id, last)
    (row,) = await intents(owner, bot_id)
    assert row["side"] == "buy"


async def test_each_start_opens_a_paper_run_per_bot_and_a_shutdown_stops_it(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    bot_id = await add_bot(owner)
    left_over = uuid7()  # a run a crashed process left running: stopped at the next start
    await owner.execute(
        "INSERT INTO trading.runs (id, bot_id, mode, status, started_ms) "
        "VALUES ($1, $2, 'paper', 'running', $3)",
        left_over,
        bot_id,
        NOW - 10_000,
    )
    clock = ManualClock(NOW)
    async with running(service_for(nats_url, database, clock)) as service:
        run_id = service.runs[bot_id]
        runs = await owner.fetch("SELECT * FROM trading.runs WHERE bot_id = $1 ORDER BY started_ms", bot_id)
        assert [(r["id"], r["status"], r["started_ms"], r["stopped_ms"]) for r in runs] == [
            (left_over, "stopped", NOW - 10_000, NOW),
            (run_id, "running", NOW, None),
        ]
        assert runs[1]["mode"] == "paper"
        with pytest.raises(asyncpg.UniqueViolationError):  # one running run per bot
            await owner.execute(
                "INSERT INTO trading.runs (id, bot_id, mode, status, started_ms) "
                "VALUES ($1, $2, 'paper', 'running', $3)",
                uuid7(),
                bot_id,
                NOW,
            )
        clock.now += 5_000
    clock.now += 1_000
    async with running(service_for(nats_url, database, clock)) as service:
        second = service.runs[bot_id]
    runs = await owner.fetch("SELECT * FROM trading.runs WHERE bot_id = $1 ORDER BY started_ms", bot_id)
    assert [(r["id"], r["status"], r["started_ms"], r["stopped_ms"]) for r in runs] == [
        (left_over, "stopped", NOW - 10_000, NOW),
        (run_id, "stopped", NOW, NOW + 5_000),
        (second, "stopped", NOW + 6_000, NOW + 6_000),
    ]


def test_app_without_environment_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GORDON_NATS_URL", raising=False)
    monkeypatch.delenv("GORDON_DATABASE_URL", raising=False)
    import services.bot as module

    with pytest.raises(NotConfigured, match="GORDON_NATS_URL is not set"):
        _ = module.app
    with pytest.raises(ValueError, match="intent validity must be positive"):
        build(nats_url="nats://127.0.0.1:1", database_url="postgresql://x@127.0.0.1/x", validity_ms=0)

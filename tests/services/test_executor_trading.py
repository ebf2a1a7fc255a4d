"""The executor against real servers: intents become paper orders and fills once, expired, paused and
halted intents are refused with a receipt, flatten closes positions from the executor's own fills, and
reconcile compares the paper books with the events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from domain.positions import PositionState, apply_fill
from producers.envelope import wire_headers
from producers.outbox import Outbox
from projections import generations
from projections.catalog import PROJECTIONS
from registry.event import Event
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import Market, OrderType, Side, bot_token
from schemas.intents import OrderIntent
from schemas.risk import Breaker, CommandKind, RiskCommand
from schemas.trading import Fill
from services.executor.paper import PaperExchange
from services.executor.service import ExecutorService, build
from stores.latch import LatchStore
from tests.manual_clock import ManualClock
from tests.projecting.helpers import history_has, publish, run_until_caught_up

NOW = 1_700_000_040_000
MINUTE = 60_000
SLIPPAGE_BPS = Decimal(10)


@dataclass
class Env:
    service: ExecutorService
    owner: asyncpg.Connection
    js: JetStreamContext
    clock: ManualClock
    database: str


async def add_kline(
    owner: asyncpg.Connection, symbol: str, open_ms: int, close: float, low: float, high: float
) -> None:
    await owner.execute(
        "INSERT INTO market_data.spot_klines (symbol, tf, open_time_ms, close_time_ms, open, high, low,"
        " close, volume, quote_volume, trades) VALUES ($1, '1m', $2, $3, $4, $5, $6, $4, 1, 1, 1)",
        symbol,
        open_ms,
        open_ms + MINUTE - 1,
        close,
        high,
        low,
    )


@pytest.fixture
async def env(
    database: str, nats_url: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> AsyncIterator[Env]:
    await fresh_bus()
    owner = await asyncpg.connect(database)
    await generations.ensure_live(owner, PROJECTIONS["risk_state"])
    await add_kline(owner, "BTCUSDT", NOW - 2 * MINUTE, 99.0, 98.0, 100.0)
    await add_kline(owner, "BTCUSDT", NOW - MINUTE, 100.0, 99.0, 101.0)
    await add_kline(owner, "BTCUSDT", NOW + MINUTE, 500.0, 500.0, 500.0)  # the future: never used now
    await add_kline(owner, "ETHUSDT", NOW - MINUTE, 20.0, 19.0, 21.0)
    clock = ManualClock(NOW)
    exchange = PaperExchange(slippage_bps=SLIPPAGE_BPS)
    service = build(
        nats_url=nats_url, database_url=database, clock=clock, exchange=exchange, sweep_interval_s=3600
    )
    await service.app.start()
    try:
        yield Env(service, owner, nats.jetstream(), clock, database)
    finally:
        await service.app.stop()
        await owner.close()


def intent(bot: UUID, side: Side = Side.BUY, qty: str = "0.5", **fields: Any) -> OrderIntent:
    values: dict[str, Any] = {
        "intent_id": uuid7(),
        "bot_id": bot,
        "symbol": "BTCUSDT",
        "market": Market.SPOT,
        "side": side,
        "order_type": OrderType.MARKET,
        "qty": Decimal(qty),
        "created_ms": NOW - 1_000,
        "valid_until_ms": NOW + 5_000,
    }
    return OrderIntent(**(values | fields))


async def send(js: JetStreamContext, subject: str, event: Event, msg_id: str | None = None) -> int:
    """Publish as the drain would: the event's id as Msg-Id unless told otherwise; its stream seq."""
    codec = REGISTRY.codec(REGISTRY.match(subject))
    headers = wire_headers(msg_id or str(event.event_id), event.NAME, event.VERSION, "bot", None)
    return (await js.publish(subject, codec.encode(event), headers=headers)).seq


async def settled(js: JetStreamContext, durable: str, seq: int) -> None:
    """Wait until the durable has been delivered seq and acked all it was given. A consumer learns of a
    stored message asynchronously, so right after a publish its info can still say 0 pending."""
    for _ in range(400):
        info = await js.consumer_info("gordon-bus", durable)
        delivered = info.delivered.stream_seq if info.delivered else 0
        if (delivered or 0) >= seq and info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{durable} did not settle")


async def place(env: Env, order: OrderIntent) -> asyncpg.Record:
    await settled(env.js, "executor-default", await send(env.js, "intents.executor", order))
    receipt = await env.owner.fetchrow(
        "SELECT * FROM trading.intent_receipts WHERE intent_id = $1", order.intent_id
    )
    assert receipt is not None, "every intent gets a receipt"
    return receipt


async def command(env: Env, kind: CommandKind, bot: UUID | None = None) -> None:
    event = RiskCommand(command_id=uuid7(), command=kind, bot_id=bot, reason=f"test {kind}", issued_ms=NOW)
    await settled(env.js, "executor-risk", await send(env.js, "risk.commands", event))


async def own_positions(owner: asyncpg.Connection) -> dict[tuple[UUID, str], PositionState]:
    out: dict[tuple[UUID, str], PositionState] = {}
    for row in await owner.fetch("SELECT * FROM trading.fill_events ORDER BY bot_id, symbol, version"):
        fill = Fill(**dict(row))
        out[(fill.bot_id, fill.symbol)] = apply_fill(out.get((fill.bot_id, fill.symbol)), fill)
    return out


async def test_an_intent_becomes_a_filled_order_and_a_fill_once(env: Env) -> None:
    bot = uuid7()
    order = intent(bot)
    receipt = await place(env, order)
    again = await send(
        env.js, "intents.executor", order, msg_id=str(uuid7())
    )  # the same intent, a new Msg-Id
    await settled(env.js, "executor-default", again)

    assert (receipt["outcome"], receipt["reason"], receipt["ts_ms"]) == ("placed", "", NOW)
    events = await env.owner.fetch("SELECT * FROM trading.order_events ORDER BY order_id, version")
    assert [(e["kind"], e["filled_qty"]) for e in events] == [
        ("submitted", 0),
        ("acked", 0),
        ("filled", Decimal("0.5")),
    ]
    assert {e["order_id"] for e in events} == {receipt["order_id"]}
    assert {e["intent_id"] for e in events} == {order.intent_id}
    (fill,) = await env.owner.fetch("SELECT * FROM trading.fill_events")
    price = 100.0 * (1 + 10 / 10_000)  # the latest close before now, 10 bps against the buyer
    assert fill["price"] == pytest.approx(price, abs=1e-9)
    assert fill["fee"] == Decimal("0.05005000")  # 0.10% taker of 0.5 x 100.1, in USDT
    assert fill["priced_at_ms"] == NOW - MINUTE  # the kline whose close priced it
    assert (fill["fee_asset"], fill["liquidity"], fill["version"], fill["qty"]) == (
        "USDT",
        "taker",
        1,
        Decimal("0.5"),
    )
    (paper,) = await env.owner.fetch("SELECT * FROM paper.orders")
    assert (paper["order_id"], paper["status"], paper["filled_qty"]) == (receipt["order_id"], "filled", 0.5)
    (paper_fill,) = await env.owner.fetch("SELECT * FROM paper.fills")
    assert (paper_fill["fill_id"], paper_fill["fee"]) == (fill["fill_id"], fill["fee"])
    (trade,) = await env.owner.fetch("SELECT * FROM trading.trades")
    same = ("bot_id", "order_id", "symbol", "market", "side", "qty", "price", "fee", "fee_asset", "liquidity")
    assert (trade["trade_id"], *(trade[c] for c in same), trade["ts_ms"]) == (
        fill["fill_id"],
        *(fill[c] for c in same),
        fill["ts_ms"],
    )
    assert (trade["venue"], trade["run_id"]) == ("paper", None)  # no bot service started a run
    subjects = [r["subject"] for r in await env.owner.fetch("SELECT subject FROM bus.outbox ORDER BY id")]
    token = bot_token(bot)
    assert subjects == [f"trading.orders.{token}"] * 3 + [f"trading.fills.{token}"]
    assert await env.owner.fetchval("SELECT count(*) FROM trading.intent_receipts") == 1


async def test_a_trade_belongs_to_the_bots_running_run_and_goes_with_it(env: Env) -> None:
    bot, run, old = uuid7(), uuid7(), uuid7()
    await env.owner.execute(
        "INSERT INTO trading.runs (id, bot_id, mode, status, started_ms, stopped_ms) VALUES "
        "($1, $3, 'paper', 'stopped', 1, 2), ($2, $3, 'paper', 'running', 3, NULL)",
        old,
        run,
        bot,
    )
    await place(env, intent(bot))
    await place(env, intent(bot, side=Side.SELL))
    trades = await env.owner.fetch("SELECT run_id, side FROM trading.trades ORDER BY trade_id")
    assert [(t["run_id"], t["side"]) for t in trades] == [(run, "buy"), (run, "sell")]
    assert await env.owner.fetchval("SELECT count(*) FROM trading.fill_events") == 2
    await env.owner.execute("DELETE FROM trading.runs WHERE id = $1", run)  # per-run rows cascade
    assert await env.owner.fetchval("SELECT count(*) FROM trading.trades") == 0


async def test_daily_notional_caps_reject_what_would_pass_them_and_reset_on_the_next_utc_day(
    env: Env,
) -> None:
    a, b = uuid7(), uuid7()
    await env.owner.execute("INSERT INTO trading.bot_notional_caps (bot_id, daily_cap) VALUES ($1, 120)", a)
    await env.owner.execute("INSERT INTO trading.global_notional_cap (id, daily_cap) VALUES (1, 200)")
    # at a close of 100: 0.5 BTC is 50 of notional
    outcomes = [(await place(env, intent(a)))["outcome"] for _ in range(2)]
    third = await place(env, intent(a))
    assert outcomes == ["placed", "placed"]
    assert (third["outcome"], third["order_id"]) == ("rejected", None)
    assert third["reason"] == "bot daily notional cap 120: 100.00 placed today, 50.00 more would pass it"
    assert (await place(env, intent(b)))["outcome"] == "placed"  # b has no cap of its own: 150 in all
    over = await place(env, intent(b, qty="1"))
    assert over["reason"] == "global daily notional cap 200: 150.00 placed today, 100.0 more would pass it"
    limit = await place(env, intent(b, qty="0.2", order_type=OrderType.LIMIT, limit_price=90.0))
    assert limit["outcome"] == "placed"  # counted at its limit: 18, though it rests
    day = NOW - NOW % 86_400_000
    totals = await env.owner.fetch("SELECT bot_id, day_ms, notional FROM trading.bot_daily_notional")
    assert {(r["bot_id"], r["day_ms"], r["notional"]) for r in totals} == {
        (a, day, Decimal("100.0")),
        (b, day, Decimal("68.0")),
    }
    assert await env.owner.fetchval("SELECT notional FROM trading.global_daily_notional") == Decimal("168.0")
    fills = await env.owner.fetchval("SELECT count(*) FROM trading.fill_events")
    await command(env, CommandKind.FLATTEN, bot=a)  # closing orders are never capped
    assert await env.owner.fetchval("SELECT count(*) FROM trading.fill_events") == fills + 1

    env.clock.now = NOW + 86_400_000  # the next UTC day: nothing placed yet (the close is 500 there)
    later = intent(a, qty="0.2", created_ms=env.clock.now - 1_000, valid_until_ms=env.clock.now + 5_000)
    assert (await place(env, later))["outcome"] == "placed"
    assert await env.owner.fetchval(
        "SELECT notional FROM trading.bot_daily_notional WHERE bot_id = $1 AND day_ms = $2",
        a,
        day + 86_400_000,
    ) == Decimal("100.0")


async def test_an_expired_intent_is_dropped_with_its_receipt(env: Env) -> None:
    receipt = await place(env, intent(uuid7(), valid_until_ms=NOW - 1))
    assert (receipt["outcome"], receipt["order_id"]) == ("expired", None)
    assert await env.owner.fetchval("SELECT count(*) FROM trading.order_events") == 0
    assert await env.owner.fetchval("SELECT count(*) FROM paper.orders") == 0


async def test_an_order_without_a_price_is_rejected(env: Env) -> None:
    receipt = await place(env, intent(uuid7(), symbol="SOLUSDT"))
    assert receipt["outcome"] == "rejected"
    assert "no 1m price for spot SOLUSDT" in receipt["reason"]
    kinds = [
        r["kind"] for r in await env.owner.fetch("SELECT kind FROM trading.order_events ORDER BY version")
    ]
    assert kinds == ["submitted", "rejected"]
    assert await env.owner.fetchval("SELECT count(*) FROM trading.fill_events") == 0


async def test_pause_refuses_new_orders_and_resume_allows_them(env: Env) -> None:
    bot = uuid7()
    await command(env, CommandKind.PAUSE)
    assert await env.owner.fetchval("SELECT paused FROM trading.executor_controls") is True
    paused = await place(env, intent(bot))
    assert (paused["outcome"], paused["reason"]) == ("paused", "test pause")
    await command(env, CommandKind.RESUME)
    placed = await place(env, intent(bot))
    assert placed["outcome"] == "placed"
    assert await env.owner.fetchval("SELECT count(*) FROM trading.fill_events") == 1


async def test_each_applied_command_is_a_bot_event_of_every_bot_it_reaches(env: Env) -> None:
    a, b, idle = sorted([uuid7(), uuid7(), uuid7()])
    run_a, run_b = uuid7(), uuid7()
    await env.owner.execute(
        "INSERT INTO trading.runs (id, bot_id, mode, status, started_ms) VALUES "
        "($1, $2, 'paper', 'running', 1), ($3, $4, 'paper', 'running', 1)",
        run_a,
        a,
        run_b,
        b,
    )
    await command(env, CommandKind.PAUSE)  # every bot: those with a running run
    env.clock.now += 1_000
    await command(env, CommandKind.FLATTEN, bot=idle)  # a bot without a run: its event has no run
    env.clock.now += 1_000
    resume = RiskCommand(command_id=uuid7(), command=CommandKind.RESUME, reason="ok", issued_ms=NOW)
    await settled(env.js, "executor-risk", await send(env.js, "risk.commands", resume))
    # the same command again under a new Msg-Id is not applied again, so no second event
    await settled(env.js, "executor-risk", await send(env.js, "risk.commands", resume, msg_id=str(uuid7())))
    rows = await env.owner.fetch("SELECT * FROM trading.bot_events ORDER BY ts_ms, bot_id")
    assert [(r["kind"], r["bot_id"], r["run_id"], r["ts_ms"]) for r in rows] == [
        ("paused", a, run_a, NOW),
        ("paused", b, run_b, NOW),
        ("flattened", idle, None, NOW + 1_000),
        ("resumed", a, run_a, NOW + 2_000),
        ("resumed", b, run_b, NOW + 2_000),
    ]
    assert rows[2]["detail"].endswith(": test flatten (0 cancelled, 0 closing)")
    assert rows[3]["detail"] == f"resume {resume.command_id}: ok"


async def test_a_tripped_latch_refuses_orders(env: Env, dsn_for: Callable[[str, str], str]) -> None:
    store = LatchStore(Outbox(REGISTRY, Service.RISK))
    async with env.owner.transaction():
        latch = await store.load(env.owner)
        latch.trip(Breaker.DRAWDOWN, 0.07, 0.05, "drawdown 7%", ts_ms=NOW)
        (trip,) = await store.save(env.owner, latch)
    await publish(env.js, "risk.events.drawdown", trip)  # as the drain would
    await history_has(env.js, 1)
    await run_until_caught_up(PROJECTIONS["risk_state"], dsn_for(env.database, "gordon_projector"), env.js)

    receipt = await place(env, intent(uuid7()))
    assert (receipt["outcome"], receipt["order_id"]) == ("halted", None)
    assert receipt["reason"].startswith("drawdown")
    assert await env.owner.fetchval("SELECT count(*) FROM trading.order_events") == 0


async def test_flatten_closes_positions_from_the_executors_own_fills(env: Env) -> None:
    a, b = uuid7(), uuid7()
    await place(env, intent(a, qty="1.5"))
    await place(env, intent(a, side=Side.SELL, qty="0.5"))
    await place(env, intent(a, symbol="ETHUSDT", qty="3"))
    await place(env, intent(b, qty="2"))
    before = await own_positions(env.owner)
    assert {k: p.qty for k, p in before.items()} == {
        (a, "BTCUSDT"): Decimal("1.0"),
        (a, "ETHUSDT"): Decimal("3"),
        (b, "BTCUSDT"): Decimal("2"),
    }

    env.clock.now += 1_000
    await command(env, CommandKind.FLATTEN, bot=a)
    after = await own_positions(env.owner)
    assert {k: p.qty for k, p in after.items()} == {
        (a, "BTCUSDT"): 0,
        (a, "ETHUSDT"): 0,
        (b, "BTCUSDT"): Decimal("2"),
    }
    closing = await env.owner.fetch(
        "SELECT side, qty, price FROM trading.fill_events WHERE ts_ms = $1 ORDER BY symbol", env.clock.now
    )
    assert [(r["side"], r["qty"]) for r in closing] == [("sell", Decimal("1.0")), ("sell", Decimal("3"))]

    await command(env, CommandKind.FLATTEN)
    assert all(p.qty == 0 for p in (await own_positions(env.owner)).values())
    # the same flatten redelivered under a new Msg-Id changes nothing
    fills = await env.owner.fetchval("SELECT count(*) FROM trading.fill_events")
    repeat = RiskCommand(command_id=uuid7(), command=CommandKind.FLATTEN, reason="x", issued_ms=NOW)
    await send(env.js, "risk.commands", repeat)
    await settled(env.js, "executor-risk", await send(env.js, "risk.commands", repeat, msg_id=str(uuid7())))
    assert await env.owner.fetchval("SELECT count(*) FROM trading.fill_events") == fills


async def test_a_limit_order_rests_until_the_price_crosses_then_fills_as_maker(env: Env) -> None:
    bot = uuid7()
    marketable = await place(env, intent(bot, order_type=OrderType.LIMIT, limit_price=100.05))
    resting = await place(env, intent(bot, order_type=OrderType.LIMIT, limit_price=97.5, qty="2"))
    assert (marketable["outcome"], resting["outcome"]) == ("placed", "placed")
    prices = await env.owner.fetch("SELECT price, liquidity FROM trading.fill_events ORDER BY version")
    assert [(r["price"], r["liquidity"]) for r in prices] == [(100.05, "taker")]  # capped at its limit
    status = "SELECT status FROM paper.orders WHERE order_id = $1"
    assert await env.owner.fetchval(status, resting["order_id"]) == "acked"

    assert await env.service.sweep() == 0  # earlier klines dipped to 98 only, and before it rested
    env.clock.now = NOW + 2 * MINUTE + 1
    await add_kline(env.owner, "BTCUSDT", NOW + 2 * MINUTE, 97.8, 97.4, 98.2)
    assert await env.service.sweep() == 1
    assert await env.owner.fetchval(status, resting["order_id"]) == "filled"
    last = await env.owner.fetchrow("SELECT * FROM trading.fill_events ORDER BY version DESC LIMIT 1")
    assert last is not None
    assert (last["price"], last["liquidity"], last["qty"]) == (97.5, "maker", Decimal("2"))
    assert last["priced_at_ms"] == NOW + 2 * MINUTE  # the kline that traded through the limit
    assert last["fee"] == Decimal("0.03900000")  # 0.02% maker of 2 x 97.5


async def test_flatten_cancels_resting_orders(env: Env) -> None:
    bot = uuid7()
    resting = await place(env, intent(bot, order_type=OrderType.LIMIT, limit_price=50.0))
    await command(env, CommandKind.FLATTEN, bot=bot)
    kinds = await env.owner.fetch(
        "SELECT kind FROM trading.order_events WHERE order_id = $1 ORDER BY version", resting["order_id"]
    )
    assert [r["kind"] for r in kinds] == ["submitted", "acked", "cancelled"]
    assert await env.owner.fetchval("SELECT status FROM paper.orders") == "cancelled"


async def test_reconcile_is_clean_after_a_run_and_reports_a_tampered_paper_order(env: Env) -> None:
    started = env.service.last_reconcile
    assert started is not None, "the startup reconcile ran"
    assert started.clean
    bot = uuid7()
    first = await place(env, intent(bot))
    await place(env, intent(bot, side=Side.SELL, qty="0.25"))
    clean = await env.service.reconcile()
    assert (clean.clean, clean.orders, clean.fills) == (True, 2, 2)
    row = await env.owner.fetchrow("SELECT * FROM trading.reconcile_runs WHERE id = $1", clean.run_id)
    assert row is not None
    assert (row["status"], row["mismatches"], row["finished_ms"]) == ("clean", 0, NOW)

    await env.owner.execute(
        "UPDATE paper.orders SET filled_qty = 0.4, status = 'partially_filled' WHERE order_id = $1",
        first["order_id"],
    )
    report = await env.service.reconcile()
    kinds = sorted(m["kind"] for m in report.mismatches)
    assert kinds == [
        "order filled_qty differs",
        "order status differs",
        "paper filled_qty differs from its paper fills",
    ]
    assert {m["order_id"] for m in report.mismatches} == {str(first["order_id"])}
    row = await env.owner.fetchrow("SELECT * FROM trading.reconcile_runs WHERE id = $1", report.run_id)
    assert row is not None
    assert (row["status"], row["mismatches"]) == ("failed", 3)
    assert "partially_filled" in row["details"]

"""The platform end to end on real servers: the drain, the live projections and the five services in one
event loop, fed by the seeded data service at demo speed with two SMA bots trading on it.

1. klines become intents, orders, fills and positions, and the read models equal the write side;
2. a drawdown trip flattens and halts (the bot holds its signals back), a resume lets it trade again;
3. restarting each service (and the drain and the runners) mid-run loses and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from gordon.commands.risk import resume_latch
from schemas.risk import Breaker
from tests.services.platform_harness import (
    Options,
    Platform,
    count,
    durables_settled,
    fills_by_position,
    latch_from_events,
    net_qty,
    outcomes,
    projections_match,
    read_latch,
    read_orders,
    read_positions,
    stream_counts,
    until,
)

pytestmark = pytest.mark.slow

log = logging.getLogger(__name__)

PLACED = "SELECT count(*) FROM trading.intent_receipts WHERE outcome = 'placed'"
INTENTS = "SELECT count(*) FROM trading.order_intents"
MINUTES = "SELECT count(*) FROM market_data.spot_klines WHERE tf = '1m'"
UNPUBLISHED = "SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL"
UNDECIDED = """
SELECT count(*) FROM trading.order_intents i
WHERE NOT EXISTS (SELECT 1 FROM trading.intent_receipts r WHERE r.intent_id = i.intent_id)
"""
SUPPRESSED = "SELECT bot_id, (state->>'suppressed')::int AS n FROM trading.bot_strategy_state"


@pytest.fixture
async def js(nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]) -> JetStreamContext:
    await fresh_bus()
    return nats.jetstream()


async def quiesce(platform: Platform, owner: asyncpg.Connection, js: JetStreamContext) -> None:
    """Stop the feed, then wait until everything it caused is published, consumed, decided and projected."""
    await platform.stop_service("data")

    async def settled() -> bool:
        return (
            await count(owner, UNPUBLISHED) == 0
            and await count(owner, UNDECIDED) == 0
            and await durables_settled(js)
            and await count(owner, UNPUBLISHED) == 0  # nothing a late handler wrote is left behind
        )

    await until(settled, "the outbox drained, every durable acked, every intent decided", 45, platform)
    await until(lambda: projections_match(owner), "the read models equal the write side", 30, platform)


async def test_klines_become_intents_orders_fills_and_positions(
    database: str, nats_url: str, js: JetStreamContext, owner: asyncpg.Connection
) -> None:
    began = time.monotonic()
    platform = Platform(nats_url, database, Options())
    try:
        await platform.start()

        async def traded() -> bool:
            bots = await owner.fetchval(
                "SELECT count(DISTINCT i.bot_id) FROM trading.order_intents i "
                "JOIN trading.intent_receipts r USING (intent_id) WHERE r.outcome = 'placed'"
            )
            return bool(bots == len(platform.bot_ids) and await count(owner, PLACED) >= 4)

        await until(traded, "both bots to have placed orders", 60, platform)
        live = (Options().backfill_minutes + 20) * len(
            Options().symbols
        )  # and live minutes after the backfill
        await until(lambda: _at_least(owner, MINUTES, live), "live klines", 30, platform)
        await quiesce(platform, owner, js)

        intents = await count(owner, INTENTS)
        assert await outcomes(owner) == {"placed": intents}  # nothing halted, paused, expired or rejected
        placed = await owner.fetch(
            "SELECT r.order_id, i.qty, i.side, i.bot_id FROM trading.intent_receipts r "
            "JOIN trading.order_intents i USING (intent_id)"
        )
        orders = await read_orders(owner)  # the view, as the projection runner wrote it
        assert len(orders) == len(placed)
        for row in placed:
            order = orders[row["order_id"]]
            assert (order.status.value, order.filled_qty, order.side.value, order.bot_id) == (
                "filled",
                row["qty"],
                row["side"],
                row["bot_id"],
            )
        fills = await owner.fetch("SELECT order_id, sum(qty) AS qty FROM trading.fill_events GROUP BY 1")
        assert {f["order_id"]: f["qty"] for f in fills} == {r["order_id"]: r["qty"] for r in placed}

        positions = await read_positions(owner)
        assert positions == await fills_by_position(owner)
        assert {bot for bot, _ in positions} == set(platform.bot_ids)
        quantities = {Decimal(str(p["qty"])) for _, p in Options().bots}
        for state in positions.values():  # long/flat: a position is a bot's quantity or nothing
            assert state.qty == 0 or state.qty in quantities
            assert state.fees > 0
        assert await latch_from_events(owner) == {}  # a large capital: no trip
        log.warning(
            "e2e trade: %d intents, %d fills, %d 1m klines in %.1f s",
            intents,
            len(fills),
            await count(owner, MINUTES),
            time.monotonic() - began,
        )
    finally:
        await platform.stop()


PERP_FILLS = """
SELECT f.market, f.price, k.close FROM trading.fill_events f
LEFT JOIN market_data.perp_klines k ON k.symbol = f.symbol AND k.tf = '1m' AND k.open_time_ms = f.priced_at_ms
"""


async def test_a_perp_bot_trades_the_perpetual_klines_at_their_closes(
    database: str, nats_url: str, js: JetStreamContext, owner: asyncpg.Connection
) -> None:
    options = Options(bots=(("BTCUSDT", {"fast": 2, "slow": 5, "qty": "0.01"}),), market="perp")
    platform = Platform(nats_url, database, options)
    try:
        await platform.start()
        await until(lambda: _at_least(owner, PLACED, 2), "the perp bot to have placed orders", 60, platform)
        await quiesce(platform, owner, js)
        markets = await owner.fetch("SELECT DISTINCT market FROM trading.order_intents")
        assert [r["market"] for r in markets] == ["perp"]
        fills = await owner.fetch(PERP_FILLS)
        assert len(fills) >= 2
        for fill in fills:  # a market order fills at the perp 1m close it was priced at (no slippage here)
            assert (fill["market"], fill["price"]) == ("perp", fill["close"])
        spot = await owner.fetchval(
            "SELECT count(*) FROM trading.fill_events f JOIN market_data.spot_klines k ON k.symbol = f.symbol"
            " AND k.tf = '1m' AND k.open_time_ms = f.priced_at_ms AND k.close = f.price"
        )
        assert spot == 0  # the twin's basis makes every perp close differ from the spot one
    finally:
        await platform.stop()


async def suppressed(owner: asyncpg.Connection) -> dict[object, int]:
    return {r["bot_id"]: r["n"] for r in await owner.fetch(SUPPRESSED)}


async def test_a_drawdown_trip_flattens_and_halts_and_a_resume_trades_again(
    database: str, nats_url: str, js: JetStreamContext, owner: asyncpg.Connection
) -> None:
    # 10 USDT of capital: the first fill's taker fee (0.1% of about 600 USDT) is a 6% drawdown. One bot on
    # live klines a second apart, so no intent races the trip: one placed between the flatten and the
    # pause stays open (the trip publishes flatten before pause, and the placing check reads the lagging
    # trading.risk_state), which two bots at 10 klines a second hit in about a third of the runs.
    began = time.monotonic()
    options = Options(
        capital=Decimal(10), speed=60.0, bots=Options().bots[:1], backfill_minutes=10, history_first=True
    )
    platform = Platform(nats_url, database, options)
    try:
        await platform.start()

        async def tripped() -> bool:
            return bool(await count(owner, "SELECT count(*) FROM trading.risk_events WHERE action = 'trip'"))

        await until(tripped, "a drawdown trip", 60, platform)
        trip = await owner.fetchrow("SELECT * FROM trading.risk_events ORDER BY version")
        assert trip is not None
        assert (trip["breaker"], trip["action"]) == ("drawdown", "trip")
        tripped_after = time.monotonic() - began

        async def halted() -> bool:
            latch = await read_latch(owner)
            paused = await owner.fetchval("SELECT paused FROM trading.executor_controls WHERE id = 1")
            return bool(latch and latch["global"].halted and paused)

        await until(halted, "trading.risk_state halted and the executor paused", 30, platform)

        async def flat() -> bool:
            positions = await fills_by_position(owner)
            return bool(positions) and set(net_qty(positions).values()) == {Decimal(0)}

        await until(flat, "every position flat by the executor's own fills", 30, platform)

        # The bot sees the halt: signals are suppressed (twice for each bot, so every handler that
        # began before the halt was visible has finished) and no intent is written meanwhile.
        await until(
            lambda: _each_at_least(owner, len(platform.bot_ids), 1), "every bot to suppress", 60, platform
        )
        held_intents = await count(owner, INTENTS)
        first = await suppressed(owner)
        await until(lambda: _each_above(owner, first), "every bot to suppress again", 60, platform)
        assert await count(owner, INTENTS) == held_intents
        assert set(net_qty(await fills_by_position(owner)).values()) == {Decimal(0)}
        paused = await owner.fetchrow("SELECT paused, reason FROM trading.executor_controls WHERE id = 1")
        assert paused is not None
        assert paused["paused"]
        assert paused["reason"].startswith("drawdown:")

        # Raise the threshold so trading after the resume does not trip again, then resume.
        await owner.execute("UPDATE trading.risk_config SET threshold = 0.99 WHERE breaker = 'drawdown'")
        risk = platform.services["risk"]

        async def reloaded() -> bool:
            row = risk.config.enabled(Breaker.DRAWDOWN)
            return row is not None and row.threshold == 0.99

        await until(reloaded, "risk to reload its thresholds", 10, platform)
        resumed = await resume_latch(database, "e2e-test", "drawdown test over", clock=platform.clock)

        async def running() -> bool:
            latch = await read_latch(owner)
            paused = await owner.fetchval("SELECT paused FROM trading.executor_controls WHERE id = 1")
            return bool(latch and not latch["global"].halted and not paused)

        await until(running, "trading.risk_state running and the executor resumed", 30, platform)

        async def traded_again() -> bool:
            return bool(
                await owner.fetchval(
                    "SELECT count(*) FROM trading.order_intents i JOIN trading.intent_receipts r "
                    "USING (intent_id) WHERE i.created_ms > $1 AND r.outcome = 'placed'",
                    resumed.ts_ms,
                )
            )

        await until(traded_again, "a placed intent after the resume", 60, platform)
        await quiesce(platform, owner, js)

        events = await owner.fetch("SELECT action, breaker FROM trading.risk_events ORDER BY version")
        assert [e["action"] for e in events] == ["trip", "resume"]  # no second trip
        audit = await owner.fetch("SELECT action, actor FROM trading.risk_audit_log ORDER BY id")
        assert [(a["action"], a["actor"]) for a in audit] == [("trip", "gordon-risk"), ("resume", "e2e-test")]
        seen = [(e.action.value, e.version) for e in platform.services["manager"].recent.list()]
        assert seen == [("trip", 1), ("resume", 2)]
        after = await owner.fetch(
            "SELECT side FROM trading.order_intents WHERE created_ms > $1 ORDER BY created_ms", resumed.ts_ms
        )
        refused = await outcomes(owner, "outcome <> 'placed'")
        log.warning(
            "e2e halt: trip after %.1f s, %d intents when halted, refused %s, %s suppressed, after the "
            "resume %s, positions %s, total %.1f s",
            tripped_after,
            held_intents,
            refused,
            await suppressed(owner),
            [r["side"] for r in after],
            net_qty(await fills_by_position(owner)),
            time.monotonic() - began,
        )
    finally:
        await platform.stop()


async def _each_at_least(owner: asyncpg.Connection, bots: int, n: int) -> bool:
    counts = await suppressed(owner)
    return len(counts) == bots and all(v >= n for v in counts.values())


async def _each_above(owner: asyncpg.Connection, before: dict[object, int]) -> bool:
    counts = await suppressed(owner)
    return all(counts.get(bot, 0) > n for bot, n in before.items())


async def test_restarting_each_service_mid_run_loses_nothing(
    database: str, nats_url: str, js: JetStreamContext, owner: asyncpg.Connection
) -> None:
    began = time.monotonic()
    platform = Platform(nats_url, database, Options())
    try:
        await platform.start()
        await until(lambda: _at_least(owner, PLACED, 2), "the first placed orders", 60, platform)

        async def feed_moves(minutes: int = 12) -> None:
            target = await count(owner, MINUTES) + minutes
            await until(lambda: _at_least(owner, MINUTES, target), "the feed to move on", 30, platform)

        for name in ("executor", "risk", "manager", "bot"):
            await platform.restart(name, while_down=feed_moves)  # klines pile up for the stopped one
            await feed_moves()
        await platform.restart("data", while_down=lambda: asyncio.sleep(0))
        await feed_moves()

        # The drain and the projection runners too: the outbox backs up, then empties.
        await platform.stop_drain()
        await until(lambda: _at_least(owner, UNPUBLISHED, 10), "an outbox backlog", 30, platform)
        platform.start_drain()
        await platform.stop_runners()
        await feed_moves()
        platform.start_runners()
        await feed_moves()
        await until(lambda: _at_least(owner, PLACED, 6), "more placed orders", 60, platform)
        await quiesce(platform, owner, js)

        # Every outbox row published, each exactly once on the stream.
        stream = await stream_counts(js)
        outbox = {str(r["event_id"]) for r in await owner.fetch("SELECT event_id FROM bus.outbox")}
        assert await count(owner, UNPUBLISHED) == 0
        assert set(stream.msg_ids) == outbox
        assert {m: n for m, n in stream.msg_ids.items() if n != 1} == {}
        # Every stored kline, spot and perpetual, has its event once.
        rows = await owner.fetch("SELECT market, symbol, tf, open_time_ms FROM market_data.v_klines_reader")
        stored = {(r["market"], r["symbol"], r["tf"], r["open_time_ms"]) for r in rows}
        assert {market for market, *_ in stored} == {"spot", "perp"}
        assert set(stream.klines) == stored
        assert {k: n for k, n in stream.klines.items() if n != 1} == {}
        # Every intent decided exactly once (intent_receipts is keyed by intent_id).
        assert await count(owner, UNDECIDED) == 0
        receipts = await count(owner, "SELECT count(*) FROM trading.intent_receipts")
        assert receipts == await count(owner, INTENTS)
        # The bots folded every 1m kline of their symbol.
        last = await owner.fetch(
            "SELECT c.bot_id, s.last_open_time_ms, (SELECT max(open_time_ms) FROM market_data.spot_klines k "
            "WHERE k.symbol = c.symbol AND k.tf = '1m') AS newest FROM trading.bot_configs c "
            "JOIN trading.bot_strategy_state s USING (bot_id)"
        )
        assert len(last) == len(platform.bot_ids)
        assert all(r["last_open_time_ms"] == r["newest"] for r in last)
        # Paper books and the executor's events agree, and so do risk's book and the executor's fills.
        report = await platform.services["executor"].reconcile()
        assert report.clean, report.mismatches
        runs = await owner.fetch("SELECT status FROM trading.reconcile_runs ORDER BY id")
        assert [r["status"] for r in runs] == ["clean"] * len(runs)
        assert len(runs) == 3
        assert platform.services["risk"].book.positions == await fills_by_position(owner)
        assert await projections_match(owner)
        log.warning(
            "e2e restarts: %s; %d bus messages, %d klines, %d intents (%s), %d fills, %.1f s",
            dict(platform.restarts),
            stream.messages,
            len(stored),
            receipts,
            await outcomes(owner),
            await count(owner, "SELECT count(*) FROM trading.fill_events"),
            time.monotonic() - began,
        )
    finally:
        await platform.stop()


async def _at_least(owner: asyncpg.Connection, query: str, n: int) -> bool:
    return await count(owner, query) >= n

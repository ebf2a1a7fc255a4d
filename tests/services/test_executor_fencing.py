"""Two executor processes on one database: once the newer one has written to the paper exchange for a bot,
the older one's writes for that bot (placing, the sweep's fills, a flatten's cancels) raise `Fenced` and
leave nothing behind, and its readiness check `fence` fails naming the bot; tokens are drawn once per bot
and process, distinct under concurrency. Other bots stay the older process's to write."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
import nats.js.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from projections import generations
from projections.catalog import PROJECTIONS
from registry.ids import uuid7
from schemas.common import OrderType
from schemas.intents import OrderIntent
from schemas.risk import CommandKind, RiskCommand
from services.executor.fencing import Fenced, Fences, admit
from services.executor.service import ExecutorService, build
from services.readiness import Failed
from settings import roles
from tests.manual_clock import ManualClock
from tests.services.test_executor_trading import MINUTE as MIN
from tests.services.test_executor_trading import NOW, add_kline, intent, send, settled
from tests.tcp_proxy import proxy_to
from tests.waiting import eventually

COUNTS = {
    name: f"SELECT count(*) FROM {name}"
    for name in (
        "trading.intent_receipts",
        "trading.order_events",
        "trading.fill_events",
        "trading.trades",
        "trading.bot_events",
        "paper.orders",
        "paper.fills",
        "bus.outbox",
        "bus.inbox",
    )
} | {
    "notional placed": "SELECT coalesce(sum(notional), 0) FROM trading.global_daily_notional",
    "executor paused": "SELECT paused::int FROM trading.executor_controls",
}


@dataclass
class Env:
    owner: asyncpg.Connection
    clock: ManualClock
    js: JetStreamContext
    database: str
    nats_url: str
    opened: list[ExecutorService] = field(default_factory=list)

    def build(self) -> ExecutorService:
        """An executor process of its own (its pool, its fencing tokens) on the shared database."""
        return build(
            nats_url=self.nats_url, database_url=self.database, clock=self.clock, sweep_interval_s=3600
        )

    async def opened_executor(self) -> ExecutorService:
        """An executor whose pool is open but whose broker is not started: its handlers are called
        directly, so which process handles what is decided by the test, not by NATS."""
        service = self.build()
        await service.runtime.open()
        self.opened.append(service)
        return service

    async def counts(self) -> dict[str, object]:
        return {name: await self.owner.fetchval(sql) for name, sql in COUNTS.items()}

    async def fence_token_of(self, order_id: UUID) -> int | None:
        sql = "SELECT fence_token FROM paper.orders WHERE order_id = $1"
        token: int | None = await self.owner.fetchval(sql, order_id)
        return token


@pytest.fixture
async def env(
    database: str, nats_url: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> AsyncIterator[Env]:
    await fresh_bus()
    owner = await asyncpg.connect(database)
    await generations.ensure_live(owner, PROJECTIONS["risk_state"])
    await add_kline(owner, "BTCUSDT", NOW - MIN, 100.0, 99.0, 101.0)
    env = Env(owner, ManualClock(NOW), nats.jetstream(), database, nats_url)
    try:
        yield env
    finally:
        for service in env.opened:
            await service.trader.fences.close()
            await service.runtime.close()
        await owner.close()


async def decide(service: ExecutorService, bot: UUID, **fields: object) -> UUID:
    """Place an intent of `bot` through `service`'s handler; the order id of its 'placed' receipt."""
    order = intent(bot, **fields)  # type: ignore[arg-type]
    receipt = await service.placing.handle(service.runtime.pool, order, service.runtime.clock())
    assert receipt is not None
    assert receipt.outcome == "placed", receipt
    assert receipt.order_id is not None
    return receipt.order_id


async def test_a_newer_executor_fences_the_older_one_out_of_a_bot_and_its_placement_writes_nothing(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    old, new = await env.opened_executor(), await env.opened_executor()
    bot, other = uuid7(), uuid7()
    first = await decide(old, bot)
    second = await decide(new, bot)
    assert (await env.fence_token_of(first), await env.fence_token_of(second)) == (1, 2)
    before = await env.counts()

    stale = intent(bot)
    with caplog.at_level(logging.ERROR, logger="services.executor.fencing"), pytest.raises(Fenced) as raised:
        await old.on_intent(stale)  # what the subscriber runs: raising NAKs the message
    with caplog.at_level(logging.ERROR, logger="services.executor.fencing"), pytest.raises(Fenced):
        await old.on_intent(intent(bot))  # fenced again: not logged again
    assert (raised.value.bot_id, raised.value.token, raised.value.seen) == (bot, 1, 2)
    assert str(raised.value) == (
        f"fenced out of bot {bot}: this executor's token 1 is older than the exchange's 2"
    )
    assert await env.counts() == before, "no receipt, order, fill, trade or outbox row of the stale process"
    assert (
        await env.owner.fetchval(
            "SELECT count(*) FROM trading.intent_receipts WHERE intent_id = $1", stale.intent_id
        )
        == 0
    )
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"{raised.value}; this process writes nothing more for it until restarted"
    ]
    seen = await env.owner.fetchrow("SELECT * FROM paper.fence_tokens WHERE bot_id = $1", bot)
    assert seen is not None
    assert (seen["token"], seen["seen_ms"]) == (2, NOW)
    assert await env.owner.fetchval("SELECT token FROM trading.fences WHERE bot_id = $1", bot) == 2

    with pytest.raises(Failed, match=f"fenced out of 1 bot\\(s\\) by a newer executor: {bot} "):
        await old.runtime.checks["fence"]()
    assert await new.runtime.checks["fence"]() == "1 bot token(s) drawn, none fenced"

    # fencing is per bot: the older process still writes for a bot the newer one has not written for
    placed = await decide(old, other)
    assert await env.fence_token_of(placed) == 1
    with pytest.raises(Failed, match=f": {bot} \\(token 1, exchange 2\\)$"):
        await old.runtime.checks["fence"]()

    # only writes to the exchange are fenced: a refusal before it, and the pause switch, still land
    expired = intent(bot, valid_until_ms=NOW - 1)
    receipt = await old.placing.handle(old.runtime.pool, expired, NOW)
    assert receipt is not None
    assert receipt.outcome == "expired"
    await old.on_command(
        RiskCommand(command_id=uuid7(), command=CommandKind.PAUSE, reason="x", issued_ms=NOW)
    )
    assert await env.owner.fetchval("SELECT paused FROM trading.executor_controls") is True


async def test_the_older_executors_sweep_skips_a_fenced_bots_order_and_fills_the_others(env: Env) -> None:
    old, new = await env.opened_executor(), await env.opened_executor()
    bot, other = uuid7(), uuid7()
    fenced = await decide(old, bot, order_type=OrderType.LIMIT, limit_price=97.5, qty="2")
    free = await decide(old, other, order_type=OrderType.LIMIT, limit_price=97.5)
    await decide(new, bot)
    env.clock.now = NOW + 2 * MIN + 1
    await add_kline(env.owner, "BTCUSDT", NOW + 2 * MIN, 97.8, 97.4, 98.2)  # trades through both limits
    fills = "SELECT count(*) FROM trading.fill_events"
    before = await env.owner.fetchval(fills)

    assert await old.sweep() == 1, "the other bot's order fills; the fenced bot's is skipped"
    status = "SELECT status, fence_token FROM paper.orders WHERE order_id = $1"
    assert tuple(await env.owner.fetchrow(status, free) or ()) == ("filled", 1)
    assert tuple(await env.owner.fetchrow(status, fenced) or ()) == ("acked", 1)
    assert await env.owner.fetchval(fills) == before + 1
    with pytest.raises(Failed, match=str(bot)):
        await old.runtime.checks["fence"]()

    assert await new.sweep() == 1
    assert tuple(await env.owner.fetchrow(status, fenced) or ()) == ("filled", 2)


async def test_a_flatten_by_the_older_executor_is_fenced_and_the_newer_one_applies_it(env: Env) -> None:
    old, new = await env.opened_executor(), await env.opened_executor()
    bot, other = uuid7(), uuid7()
    others = await decide(old, other, order_type=OrderType.LIMIT, limit_price=50.0)  # cancelled first
    resting = await decide(old, bot, order_type=OrderType.LIMIT, limit_price=50.0)
    await decide(new, bot)  # a position for the flatten to close, and the newer token
    before = await env.counts()
    every_bot = RiskCommand(command_id=uuid7(), command=CommandKind.FLATTEN, reason="x", issued_ms=NOW)
    with pytest.raises(Fenced):
        await old.on_command(every_bot)  # one transaction: the other bot's cancel goes back with it
    assert await env.counts() == before
    assert await env.owner.fetchval("SELECT status FROM paper.orders WHERE order_id = $1", others) == "acked"
    flatten = RiskCommand(
        command_id=uuid7(), command=CommandKind.FLATTEN, bot_id=bot, reason="x", issued_ms=NOW
    )

    with pytest.raises(Fenced):
        await old.on_command(flatten)
    assert await env.counts() == before, "no cancel, closing order, bot event or inbox row"
    assert await env.owner.fetchval("SELECT status FROM paper.orders WHERE order_id = $1", resting) == "acked"

    await new.on_command(flatten)  # the redelivery, handled by the newer process
    assert tuple(
        await env.owner.fetchrow("SELECT status, fence_token FROM paper.orders WHERE order_id = $1", resting)
        or ()
    ) == ("cancelled", 2)
    kinds = await env.owner.fetch("SELECT kind FROM trading.bot_events WHERE bot_id = $1", bot)
    assert [r["kind"] for r in kinds] == ["flattened"]
    closing = await env.owner.fetchval("SELECT side FROM trading.fill_events ORDER BY version DESC LIMIT 1")
    assert closing == "sell"


async def test_tokens_are_drawn_once_per_bot_and_process_and_differ_across_processes(
    database: str, dsn_for: Callable[[str, str], str]
) -> None:
    dsn = dsn_for(database, roles.EXECUTOR)
    processes = [Fences(dsn) for _ in range(5)]
    bot, other = uuid7(), uuid7()
    try:
        first = processes[0]
        assert set(await asyncio.gather(*(first.token(bot) for _ in range(5)))) == {1}, "one draw"
        assert await first.token(other) == 1, "each bot counts on its own"
        drawn = await asyncio.gather(*(p.token(bot) for p in processes[1:]))
        assert sorted(drawn) == [2, 3, 4, 5], "concurrent draws of four processes: each token once"
        later = Fences(dsn)
        processes.append(later)
        assert await later.token(bot) == 6, "a later process's token is above all drawn before"
    finally:
        for p in processes:
            await p.close()


async def waiting_for_a_lock(owner: asyncpg.Connection, conn: asyncpg.Connection) -> None:
    """Until `conn`'s backend waits for a row lock (bounded)."""
    pid = conn.get_server_pid()
    for _ in range(400):
        if await owner.fetchval("SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted", pid):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the newer token's admission never waited")


async def test_a_newer_token_waits_for_the_older_tokens_open_writes_which_do_not_wait_for_each_other(
    database: str, dsn_for: Callable[[str, str], str]
) -> None:
    dsn = dsn_for(database, roles.EXECUTOR)
    owner = await asyncpg.connect(database)
    old_a, old_b, new = [await asyncpg.connect(dsn) for _ in range(3)]
    bot = uuid7()
    try:
        await admit(old_a, bot, 1, NOW)  # the first write for the bot stores its token
        async with old_a.transaction(), old_b.transaction():
            await admit(old_a, bot, 1, NOW + 1)  # two open writes of the older process: both admitted
            await admit(old_b, bot, 1, NOW + 1)
            seen = "SELECT token, seen_ms FROM paper.fence_tokens WHERE bot_id = $1"
            assert tuple(await owner.fetchrow(seen, bot) or ()) == (1, NOW), "seen_ms: when first admitted"
            newer = asyncio.create_task(admit(new, bot, 2, NOW + 2))
            await waiting_for_a_lock(owner, new)
            assert not newer.done()
        await newer  # the older writes committed first: the newer token is stored after them
        with pytest.raises(Fenced):
            await admit(old_a, bot, 1, NOW + 3)
        assert tuple(await owner.fetchrow(seen, bot) or ()) == (2, NOW + 2)
    finally:
        for conn in (old_a, old_b, new, owner):
            await conn.close()


async def test_the_fenced_process_naks_fails_readiness_and_the_newer_one_handles_the_intent(
    env: Env,
) -> None:
    old = env.build()
    await old.app.start()  # bound to executor-default: NATS hands it the intents
    new = await env.opened_executor()  # its subscription is not bound yet (see the README)
    bot = uuid7()
    stale = intent(bot)
    try:
        third = env.build()
        with pytest.raises(nats.js.errors.Error, match="consumer is already bound"):
            await third.app.start()  # a second executor cannot bind the push durable the first holds
        await third.app.stop()
        await settled(env.js, "executor-default", await send(env.js, "intents.executor", intent(bot)))
        await decide(new, bot)
        seq = await send(env.js, "intents.executor", stale)
        for _ in range(400):
            verdict = await old.app.readiness()
            if verdict.failed:
                break
            await asyncio.sleep(0.05)
        assert verdict.failed == ["fence"]
        assert str(bot) in verdict.results["fence"].detail
        assert (
            await env.owner.fetchval(
                "SELECT count(*) FROM trading.intent_receipts WHERE intent_id = $1", stale.intent_id
            )
            == 0
        )
    finally:
        await old.app.stop()
    env.opened.remove(new)
    await new.app.start()  # its pool is open already; now it binds the durable
    try:
        await settled(env.js, "executor-default", seq)  # the NAK'd intent, redelivered to the newer one
        receipt = await env.owner.fetchrow(
            "SELECT outcome, order_id FROM trading.intent_receipts WHERE intent_id = $1", stale.intent_id
        )
        assert receipt is not None
        assert receipt["outcome"] == "placed"
        assert await env.fence_token_of(receipt["order_id"]) == 2
        assert (await new.app.readiness()).ready
    finally:
        await new.app.stop()


async def receipt_of(env: Env, order: OrderIntent) -> asyncpg.Record:
    sql = "SELECT outcome, order_id FROM trading.intent_receipts WHERE intent_id = $1"
    row = await env.owner.fetchrow(sql, order.intent_id)
    assert row is not None
    return row


async def test_after_a_partition_heals_both_executors_get_each_intent_and_only_the_newer_one_places(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    bot = uuid7()
    async with proxy_to(env.nats_url) as proxy:
        old = build(
            nats_url=f"nats://127.0.0.1:{proxy.port}",
            database_url=env.database,
            clock=env.clock,
            sweep_interval_s=3600,
        )
        await old.app.start()
        try:
            first = intent(bot)
            await settled(env.js, "executor-default", await send(env.js, "intents.executor", first))
            assert await env.fence_token_of((await receipt_of(env, first))["order_id"]) == 1
            proxy.cut()  # the partition: the old process loses NATS and keeps Postgres

            async def unbound() -> bool:
                info = await env.js.consumer_info("gordon-bus", "executor-default")
                return not info.push_bound

            await eventually(unbound, "the durable to lose the old process's subscription")
            new = env.build()
            await new.app.start()
            try:
                second = intent(bot)
                await settled(env.js, "executor-default", await send(env.js, "intents.executor", second))
                assert await env.fence_token_of((await receipt_of(env, second))["order_id"]) == 2
                proxy.heal()  # the old client reconnects and subscribes to the durables' subjects again

                async def reconnected() -> bool:
                    return bool(old.broker.connection.is_connected)

                await eventually(reconnected, "the old process to reconnect to NATS")
                await old.broker.connection.flush()  # its subscriptions, sent again before, are in
                caplog.clear()
                third = intent(bot)  # delivered to both processes now
                await settled(env.js, "executor-default", await send(env.js, "intents.executor", third))

                async def fenced() -> bool:
                    return any("Fenced" in r.getMessage() for r in caplog.records)

                await eventually(fenced, "the old process's fenced transaction")
                receipt = await receipt_of(env, third)
                assert receipt["outcome"] == "placed"
                assert await env.fence_token_of(receipt["order_id"]) == 2  # the newer process placed it
                orders = await env.owner.fetchval("SELECT count(*) FROM paper.orders WHERE bot_id = $1", bot)
                assert orders == 3  # one per intent: the old process's attempt left nothing
                verdict = await old.app.readiness()
                assert verdict.failed == ["fence"]
                assert str(bot) in verdict.results["fence"].detail
                assert (await new.app.readiness()).ready
            finally:
                await new.app.stop()
        finally:
            await old.app.stop()

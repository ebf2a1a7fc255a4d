"""Bot leases, subscriptions and lifecycle events on real servers: a bot runs only in the process holding
its session advisory lock; its run records the series it subscribes to, its lease row and its 'started'
and 'stopped' events; a crashed holder's row is taken over once its lock is free.

The services run in-process with an injected clock (helpers of test_bot_service.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from registry.ids import uuid7
from services.bot.leases import LeaseLost, Leases
from services.bot.runs import open_runs
from settings import roles
from tests.manual_clock import ManualClock
from tests.services.test_bot_service import (
    HISTORY,
    MIN,
    NOW,
    T0,
    add_bot,
    durable,
    intents,
    kline,
    publish,
    running,
    service_for,
    settle,
    store_klines,
)
from tests.tcp_proxy import proxy_to
from tests.waiting import eventually


@pytest.fixture
async def js(nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]) -> JetStreamContext:
    await fresh_bus()
    return nats.jetstream()


STRATEGY_STATES = "SELECT count(*) FROM trading.bot_strategy_state"
LEASE_BACKEND = "application_name = 'gordon-bot-leases'"


async def warm_bot(owner: asyncpg.Connection) -> UUID:
    """A configured bot with the history its strategy warms up from (the next close of 14 is a cross)."""
    bot_id = await add_bot(owner)
    await store_klines(owner, HISTORY, T0)
    return bot_id


async def lease_of(conn: asyncpg.Connection, bot_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM trading.bot_leases WHERE bot_id = $1", bot_id)


async def events_of(conn: asyncpg.Connection, bot_id: UUID) -> list[tuple[str, UUID | None, int]]:
    rows = await conn.fetch(
        "SELECT kind, run_id, ts_ms FROM trading.bot_events WHERE bot_id = $1 ORDER BY ts_ms, id", bot_id
    )
    return [(r["kind"], r["run_id"], r["ts_ms"]) for r in rows]


async def lock_holders(conn: asyncpg.Connection) -> list[str]:
    """application_name of the backends holding a bot lease lock (a session advisory lock)."""
    rows = await conn.fetch(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'gordon-bot-leases'"
    )
    return [r["application_name"] for r in rows]


async def test_two_connections_cannot_hold_one_bots_lease_and_a_dead_holders_lock_is_free(
    database: str, dsn_for: Callable[[str, str], str]
) -> None:
    dsn = dsn_for(database, roles.BOT)
    bot, other = uuid7(), uuid7()
    first, second = Leases(dsn, "first"), Leases(dsn, "second")
    try:
        assert await first.take([bot]) == [bot]
        assert await second.take([bot, other]) == [other]  # the other bot is free
        assert first.conn is not None
        first.conn.terminate()  # a crash: the connection dies, its session locks a moment later
        assert await second.take([bot], wait_s=10.0) == [other, bot]
        assert await Leases(dsn, "third").take([bot, other]) == []
    finally:
        await first.release()
        await second.release()
    third = Leases(dsn, "third")
    try:
        assert await third.take([bot]) == [bot]  # released by closing the connection
    finally:
        await third.release()


async def test_a_second_process_does_not_run_a_leased_bot_and_a_clean_stop_frees_it(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    bot_id = await add_bot(owner)
    clock = ManualClock(NOW)
    async with running(service_for(nats_url, database, clock)) as first:
        run_id = first.runs[bot_id]
        lease = await lease_of(owner, bot_id)
        assert lease is not None
        assert (lease["holder"], lease["run_id"], lease["acquired_ms"], lease["renewed_ms"]) == (
            first.leases.holder,
            run_id,
            NOW,
            NOW,
        )
        subscriptions = await owner.fetch(
            "SELECT run_id, bot_id, symbol, market, tf FROM trading.symbol_subscriptions"
        )
        assert [tuple(r) for r in subscriptions] == [(run_id, bot_id, "BTCUSDT", "spot", "1m")]
        assert await lock_holders(owner) == ["gordon-bot-leases"]
        verdict = await first.app.readiness()
        assert verdict.results["leases"].ok, verdict.results["leases"]
        clock.now += 1_000
        async with running(service_for(nats_url, database, clock, lease_wait_s=0.2)) as second:
            assert second.runners == {}  # leased by the first: not subscribed, no run
            assert second.runs == {}
        lease = await lease_of(owner, bot_id)
        assert lease is not None
        assert lease["holder"] == first.leases.holder  # the second process changed nothing
        status = await owner.fetchval("SELECT status FROM trading.runs WHERE id = $1", run_id)
        assert status == "running"
        clock.now += 1_000
    assert await lease_of(owner, bot_id) is None  # a clean stop removes its row and frees the lock
    assert await lock_holders(owner) == []
    assert await events_of(owner, bot_id) == [("started", run_id, NOW), ("stopped", run_id, NOW + 2_000)]
    clock.now += 1_000
    async with running(service_for(nats_url, database, clock)) as third:
        assert set(third.runners) == {bot_id}
        lease = await lease_of(owner, bot_id)
        assert lease is not None
        assert (lease["holder"], lease["run_id"]) == (third.leases.holder, third.runs[bot_id])


async def test_a_crashed_holders_stale_lease_is_taken_over_and_each_kline_renews_it(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    bot_id = await warm_bot(owner)
    stale_run = uuid7()
    await owner.execute(
        "INSERT INTO trading.runs (id, bot_id, mode, status, started_ms) "
        "VALUES ($1, $2, 'paper', 'running', $3)",
        stale_run,
        bot_id,
        NOW - 10_000,
    )
    await owner.execute(
        "INSERT INTO trading.bot_leases VALUES ($1, 'dead-host:1:00000000', $2, $2, $3)",
        bot_id,
        NOW - 10_000,
        stale_run,
    )
    clock = ManualClock(NOW)
    async with running(service_for(nats_url, database, clock)) as service:
        run_id = service.runs[bot_id]
        lease = await lease_of(owner, bot_id)
        assert lease is not None
        assert (lease["holder"], lease["run_id"], lease["acquired_ms"]) == (
            service.leases.holder,
            run_id,
            NOW,
        )
        stale = await owner.fetchrow("SELECT status, stopped_ms FROM trading.runs WHERE id = $1", stale_run)
        assert stale is not None
        assert tuple(stale) == ("stopped", NOW)
        clock.now += 5_000
        seq = await publish(js, kline(T0 + 3 * MIN, 14.0))
        await settle(js, bot_id, seq)
        lease = await lease_of(owner, bot_id)
        assert lease is not None
        assert (lease["acquired_ms"], lease["renewed_ms"]) == (NOW, NOW + 5_000)
    assert await events_of(owner, bot_id) == [("started", run_id, NOW), ("stopped", run_id, NOW + 5_000)]


async def kill_lease_connections(owner: asyncpg.Connection) -> None:
    """As a Postgres restart or a partition would: the lock connections die, their locks with them."""
    await owner.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {LEASE_BACKEND}")
    for _ in range(200):
        if not await owner.fetchval(f"SELECT count(*) FROM pg_stat_activity WHERE {LEASE_BACKEND}"):
            break
        await asyncio.sleep(0.05)
    assert await lock_holders(owner) == []


async def test_readiness_fails_once_the_lease_connection_is_lost(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    bot_id = await add_bot(owner)
    async with running(service_for(nats_url, database, ManualClock(NOW))) as service:
        verdict = await service.app.readiness()
        assert verdict.results["leases"].detail == f"1 bot lease(s) held by {service.leases.holder}"
        await kill_lease_connections(owner)
        verdict = await service.app.readiness()
        assert not verdict.results["leases"].ok
        assert "the lease connection is gone" in verdict.results["leases"].detail
    assert await lease_of(owner, bot_id) is None  # the clean stop still removes its row


async def test_the_keeper_reopens_a_lost_lease_connection_and_retakes_the_locks(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    bot_id = await warm_bot(owner)
    clock = ManualClock(NOW)
    async with running(service_for(nats_url, database, clock, keep_interval_s=0.05)) as service:
        await kill_lease_connections(owner)
        for _ in range(200):  # the keeper's next pass, 50 ms apart
            if await lock_holders(owner) and (await service.app.readiness()).results["leases"].ok:
                break
            await asyncio.sleep(0.05)
        verdict = await service.app.readiness()
        assert verdict.results["leases"].detail == f"1 bot lease(s) held by {service.leases.holder}"
        assert await lock_holders(owner) == ["gordon-bot-leases"]
        assert service.leases.lost == {}
        clock.now += 5_000
        seq = await publish(js, kline(T0 + 3 * MIN, 14.0))  # a golden cross: the bot still trades
        await settle(js, bot_id, seq)
        assert len(await intents(owner, bot_id)) == 1
        lease = await lease_of(owner, bot_id)
        assert lease is not None
        assert (lease["holder"], lease["renewed_ms"]) == (service.leases.holder, NOW + 5_000)


async def test_a_bot_whose_lease_another_process_took_meanwhile_is_fenced_and_given_up(
    js: JetStreamContext,
    owner: asyncpg.Connection,
    nats_url: str,
    database: str,
    dsn_for: Callable[[str, str], str],
) -> None:
    bot_id = await warm_bot(owner)
    clock = ManualClock(NOW)
    stale = service_for(nats_url, database, clock, keep_interval_s=3_600)  # its keeper passes by hand
    await stale.app.start()
    stale_run = stale.runs[bot_id]
    other = Leases(dsn_for(database, roles.BOT), "other-host:1:00000000")
    stopped = False
    try:
        await kill_lease_connections(owner)
        clock.now += 1_000
        # another process takes the free lock and starts the bot, as the start of services/bot does
        assert await other.take([bot_id]) == [bot_id]
        async with owner.transaction():
            other_runs = await open_runs(owner, [bot_id], clock.now)
            await other.claim(owner, other_runs, clock.now)
        with pytest.raises(LeaseLost, match="other-host"):
            await stale.runners[bot_id].handle(kline(T0 + 3 * MIN, 14.0))  # a golden cross
        assert await owner.fetchval(STRATEGY_STATES) == 0  # the stale transaction wrote nothing
        assert await intents(owner, bot_id) == []
        assert await owner.fetchval("SELECT count(*) FROM trading.signals") == 0

        retaken = await stale.retake()
        assert (retaken.reclaim, retaken.given_up) == ([], [bot_id])
        verdict = await stale.app.readiness()
        assert not verdict.results["leases"].ok
        assert f"bot {bot_id}: another process holds its lock" in verdict.results["leases"].detail

        clock.now += 1_000
        stopped = True
        await stale.app.stop()  # the clean stop leaves the bot's run and row to the other process
    finally:
        if not stopped:
            await stale.app.stop()
        await other.release()
    runs = await owner.fetch("SELECT id, status FROM trading.runs WHERE bot_id = $1 ORDER BY id", bot_id)
    assert [tuple(r) for r in runs] == [(stale_run, "stopped"), (other_runs[bot_id], "running")]
    lease = await lease_of(owner, bot_id)
    assert lease is not None
    assert (lease["holder"], lease["run_id"]) == (other.holder, other_runs[bot_id])
    assert [kind for kind, _, _ in await events_of(owner, bot_id)] == ["started"]  # the stale run's


async def test_a_bot_taken_over_by_a_process_that_could_not_run_it_is_taken_back(
    js: JetStreamContext, owner: asyncpg.Connection, nats_url: str, database: str
) -> None:
    bot_id = await warm_bot(owner)
    clock = ManualClock(NOW)
    async with running(service_for(nats_url, database, clock, keep_interval_s=3_600)) as stale:
        stale_run = stale.runs[bot_id]
        await kill_lease_connections(owner)
        clock.now += 1_000
        # a second process gets the free lock and claims the bot, but the durable is still bound to the
        # first process's subscription (it is connected to NATS), so its start fails and it stops
        fresh = service_for(nats_url, database, clock, lease_wait_s=10.0)
        with pytest.raises(NatsError, match="already bound"):
            await fresh.app.start()
        fresh_run = fresh.runs[bot_id]
        with pytest.raises(LeaseLost, match=fresh.leases.holder):
            await stale.runners[bot_id].handle(kline(T0 + 3 * MIN, 14.0))
        clock.now += 1_000
        await fresh.app.stop()
        assert await lease_of(owner, bot_id) is None

        clock.now += 1_000
        retaken = await stale.retake()
        assert (retaken.reclaim, retaken.given_up) == ([bot_id], [])
        taken_back = stale.runs[bot_id]
        verdict = await stale.app.readiness()
        assert verdict.results["leases"].detail == f"1 bot lease(s) held by {stale.leases.holder}"
        lease = await lease_of(owner, bot_id)
        assert lease is not None
        assert (lease["holder"], lease["run_id"]) == (stale.leases.holder, taken_back)

        clock.now += 1_000
        seq = await publish(js, kline(T0 + 3 * MIN, 14.0))  # the kline the fenced transaction lost
        await settle(js, bot_id, seq)
        assert len(await intents(owner, bot_id)) == 1
        signal_run = await owner.fetchval("SELECT run_id FROM trading.signals WHERE bot_id = $1", bot_id)
        assert signal_run == taken_back
    runs = await owner.fetch("SELECT id, status FROM trading.runs WHERE bot_id = $1 ORDER BY id", bot_id)
    assert [tuple(r) for r in runs] == [
        (stale_run, "stopped"),
        (fresh_run, "stopped"),
        (taken_back, "stopped"),
    ]
    assert [(kind, run) for kind, run, _ in await events_of(owner, bot_id)] == [
        ("started", stale_run),
        ("started", fresh_run),
        ("stopped", fresh_run),
        ("started", taken_back),
        ("stopped", taken_back),
    ]


async def test_after_a_partition_heals_both_processes_get_the_klines_and_only_the_holder_trades(
    js: JetStreamContext,
    owner: asyncpg.Connection,
    nats_url: str,
    database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot_id = await warm_bot(owner)
    clock = ManualClock(NOW)
    async with proxy_to(nats_url) as proxy:
        stale = service_for(f"nats://127.0.0.1:{proxy.port}", database, clock, keep_interval_s=3_600)
        await stale.app.start()
        stopped = False
        try:
            stale_run = stale.runs[bot_id]
            proxy.cut()  # the partition: the stale process loses NATS ...
            await kill_lease_connections(owner)  # ... and its lease connection

            async def unbound() -> bool:
                return not (await js.consumer_info("gordon-bus", durable(bot_id))).push_bound

            await eventually(unbound, "the durable to lose its subscriber")
            clock.now += 1_000
            async with running(service_for(nats_url, database, clock, lease_wait_s=10.0)) as fresh:
                fresh_run = fresh.runs[bot_id]
                proxy.heal()  # the stale client reconnects and subscribes to the durable's subject again

                async def reconnected() -> bool:
                    return bool(stale.broker.connection.is_connected)

                await eventually(reconnected, "the stale process to reconnect to NATS")
                await stale.broker.connection.flush()  # its subscriptions, sent again before, are in
                caplog.clear()
                seq = await publish(js, kline(T0 + 3 * MIN, 14.0))  # a golden cross, to both processes
                await settle(js, bot_id, seq)
                await eventually(
                    lambda: _logged(caplog, "LeaseLost"), "the stale process's fenced transaction"
                )
                emitted = await intents(owner, bot_id)
                assert len(emitted) == 1  # one intent: the holder's; the stale transaction rolled back
                signals = await owner.fetch("SELECT run_id FROM trading.signals WHERE bot_id = $1", bot_id)
                assert [r["run_id"] for r in signals] == [fresh_run]
                assert (await stale.retake()).given_up == [bot_id]
                stopped = True
                await stale.app.stop()
                lease = await lease_of(owner, bot_id)
                assert lease is not None
                assert (lease["holder"], lease["run_id"]) == (fresh.leases.holder, fresh_run)
        finally:
            if not stopped:
                await stale.app.stop()
    runs = await owner.fetch("SELECT id, status FROM trading.runs WHERE bot_id = $1 ORDER BY id", bot_id)
    assert [tuple(r) for r in runs] == [(stale_run, "stopped"), (fresh_run, "stopped")]


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in record.getMessage() for record in caplog.records)

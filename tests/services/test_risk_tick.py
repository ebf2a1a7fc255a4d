"""The risk service's tick against real NATS and PostgreSQL with an injected clock: correlation from
klines on the bus, VPIN and macro from the data service's generators running a toxic-flow and a VIX-shock
scenario (stored as gordon_data_writer, read through the reader views), a
risk_config threshold changed while it runs, and a held breach that trips once. Each trip pauses and
flattens through the one trip path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient

from producers.channels import KLINES
from producers.publisher import NatsPublisher
from registry.subject import Service
from schemas import REGISTRY
from schemas.risk import CommandKind
from services.data.generators.scenario import MacroShock, Scenario, ToxicFlow
from services.risk import halt
from services.risk.service import REFRESH_MS, RiskService, build
from services.runtime import ServiceRuntime
from settings import roles
from tests.manual_clock import ManualClock
from tests.services.risk_events import kline
from tests.services.test_data_extras import LEAD, candles, feed
from tests.services.test_risk_service import START_MS, fetch, outbox_commands, settled
from tests.waiting import eventually

BOTS = {
    "BTCUSDT": UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60"),
    "ETHUSDT": UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f61"),
}
MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
DAY_0 = 1_704_067_200_000  # 2024-01-01T00:00Z: where the generated market starts
BASE = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.005, -0.015, 0.012, -0.008] * 4
NOISE = [0.004, -0.003, 0.001, 0.005, -0.004, 0.002, -0.005, 0.003, -0.001, 0.002] * 4


async def execute(dsn: str, query: str, *args: object) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(query, *args)
    finally:
        await conn.close()


async def configure_bots(database: str, symbols: list[str]) -> None:
    """One SMA bot per symbol in trading.bot_configs: the symbols the breakers watch."""
    for symbol in symbols:
        await execute(
            database,
            "INSERT INTO trading.bot_configs (bot_id, symbol, market, tf, strategy, created_ms)"
            " VALUES ($1, $2, 'spot', '1m', 'sma_cross', $3)",
            BOTS[symbol],
            symbol,
            START_MS,
        )


async def set_breaker(database: str, breaker: str, **values: object) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=2))
    await execute(
        database, f"UPDATE trading.risk_config SET {sets} WHERE breaker = $1", breaker, *values.values()
    )


def closes_of(returns: list[float], start: float) -> list[float]:
    out = [start]
    for r in returns:
        out.append(out[-1] * (1 + r))
    return out


async def publish_closes(nats: NatsClient, symbol: str, closes: list[float], first: int = 0) -> None:
    data = NatsPublisher(REGISTRY, Service.DATA, nats.jetstream())
    subject = KLINES(market="spot", symbol_lc=symbol.lower(), tf="1m")
    for i, close in enumerate(closes, start=first):
        await data.publish(subject, kline(close, START_MS - DAY + (i + 1) * MINUTE, symbol))


async def trip_rows(database: str) -> list[asyncpg.Record]:
    return await fetch(
        database, "SELECT breaker, action, value, threshold FROM trading.risk_events ORDER BY version"
    )


async def assert_one_trip_paused_and_flattened(database: str, breaker: str) -> asyncpg.Record:
    (row,) = await trip_rows(database)
    assert (row["breaker"], row["action"]) == (breaker, "trip")
    subjects = await fetch(database, "SELECT subject FROM bus.outbox WHERE subject LIKE 'risk.events.%'")
    assert [r["subject"] for r in subjects] == [f"risk.events.{breaker}"]
    assert await outbox_commands(database) == [CommandKind.PAUSE, CommandKind.FLATTEN]
    audit = await fetch(database, "SELECT action, actor, reason FROM trading.risk_audit_log")
    assert [(r["action"], r["actor"]) for r in audit] == [("trip", "gordon-risk")]
    assert audit[0]["reason"].startswith(f"{breaker}: ")
    return row


@pytest.fixture
async def start(
    database: str, nats_url: str, fresh_bus: Callable[[], Awaitable[None]]
) -> AsyncIterator[Callable[[int], Awaitable[tuple[RiskService, ManualClock]]]]:
    """`start(now_ms)`: the service (its own 30 Hz loop idle: the test ticks by hand) with its clock at
    `now_ms`, started once the test set its rows."""
    await fresh_bus()
    started: list[RiskService] = []

    async def go(now_ms: int = START_MS) -> tuple[RiskService, ManualClock]:
        clock = ManualClock(now_ms)
        service = build(
            nats_url=nats_url,
            database_url=database,
            clock=clock,
            capital=Decimal("10000"),
            check_interval_s=3600,
        )
        await service.app.start()
        started.append(service)
        return service, clock

    yield go
    for service in started:
        await service.app.stop()


async def test_correlated_klines_trip_the_correlation_breaker_once(
    start: Callable[[int], Awaitable[tuple[RiskService, ManualClock]]],
    database: str,
    nats: NatsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await configure_bots(database, ["BTCUSDT", "ETHUSDT"])
    service, clock = await start(START_MS)
    btc, eth = closes_of(BASE[:30], 100.0), closes_of([3 * r for r in BASE[:30]], 50.0)
    # 30 closes each, 29 returns: too few to correlate.
    await publish_closes(nats, "BTCUSDT", btc[:30])
    await publish_closes(nats, "ETHUSDT", eth[:30])
    await eventually(lambda: settled(nats, "risk-klines"), "the klines")
    assert await service.tick() == []
    # The 31st close of each: 30 common returns moving as one.
    await publish_closes(nats, "BTCUSDT", btc[30:], first=30)
    await publish_closes(nats, "ETHUSDT", eth[30:], first=30)
    await eventually(lambda: settled(nats, "risk-klines"), "the last klines")
    (event,) = await service.tick()
    assert event.breaker.value == "correlation"
    assert event.value == pytest.approx(1.0)
    assert event.threshold == 0.9
    row = await assert_one_trip_paused_and_flattened(database, "correlation")
    assert row["value"] == pytest.approx(1.0)
    # Held: later ticks trip nothing more, and cost no latch query but the once-a-second look.
    assert await service.tick() == []  # the first look at the latch after the trip
    looks: list[int] = []
    head_version = halt.head_version

    async def counted(pool: asyncpg.Pool) -> int:
        looks.append(clock.now)
        return await head_version(pool)

    monkeypatch.setattr(halt, "head_version", counted)
    for _ in range(30):
        assert await service.tick() == []
    assert looks == []
    clock.now += REFRESH_MS
    assert await service.tick() == []
    assert looks == [clock.now]
    assert len(await trip_rows(database)) == 1


async def test_a_threshold_changed_in_risk_config_takes_effect_at_the_next_refresh(
    start: Callable[[int], Awaitable[tuple[RiskService, ManualClock]]], database: str, nats: NatsClient
) -> None:
    await configure_bots(database, ["BTCUSDT", "ETHUSDT"])
    await set_breaker(database, "correlation", threshold=0.99)
    service, clock = await start(START_MS)
    eth_returns = [2 * b + 3 * n for b, n in zip(BASE[:31], NOISE[:31], strict=True)]  # correlation 0.926
    await publish_closes(nats, "BTCUSDT", closes_of(BASE[:31], 100.0))
    await publish_closes(nats, "ETHUSDT", closes_of(eth_returns, 50.0))
    await eventually(lambda: settled(nats, "risk-klines"), "the klines")
    assert await service.tick() == []
    await set_breaker(database, "correlation", threshold=0.9)
    clock.now += REFRESH_MS - 1
    assert await service.tick() == []  # not re-read yet
    clock.now += 1
    (event,) = await service.tick()
    assert (event.breaker.value, event.threshold) == ("correlation", 0.9)
    assert event.value == pytest.approx(0.926, abs=1e-3)
    await assert_one_trip_paused_and_flattened(database, "correlation")


@pytest.fixture
async def generate(database: str, nats_url: str) -> Callable[[int, Scenario], Awaitable[None]]:
    """`generate(hours, scenario)`: the data service's generators write `hours` of BTCUSDT from DAY_0 on
    (klines, aggregated trades, VPIN, macro) as gordon_data_writer, as its ingest does."""

    async def go(hours: int, scenario: Scenario) -> None:
        runtime = ServiceRuntime(Service.DATA, nats_url, database, ManualClock(DAY_0))
        await runtime.open()
        try:
            await feed(runtime, candles(LEAD, DAY_0, hours * 60), scenario=scenario)
        finally:
            await runtime.close()

    return go


async def test_the_toxic_flow_scenario_trips_the_vpin_breaker(
    start: Callable[[int], Awaitable[tuple[RiskService, ManualClock]]],
    generate: Callable[[int, Scenario], Awaitable[None]],
    database: str,
    dsn_for: Callable[[str, str], str],
) -> None:
    await configure_bots(database, ["BTCUSDT"])
    await set_breaker(database, "connectivity", enabled=False)  # no klines on the bus here
    await generate(4, Scenario(toxic_flows=(ToxicFlow(DAY_0 + 2 * HOUR, DAY_0 + 4 * HOUR, buy_share=0.98),)))
    writer = dsn_for(database, roles.DATA_WRITER)
    await execute(  # a spike of a symbol no bot trades changes nothing
        writer,
        "INSERT INTO market_data.metrics (symbol, metric, ts_ms, value) VALUES ('ETHUSDT', 'vpin', $1, 0.99)",
        DAY_0 + 2 * HOUR,
    )
    service, clock = await start(DAY_0 + 2 * HOUR)  # the calm flow's VPIN is the latest by then
    assert await service.tick() == []
    clock.now = DAY_0 + 4 * HOUR  # two hours of one-sided flow later
    (event,) = await service.tick()
    assert event.breaker.value == "vpin"
    assert event.value is not None
    assert event.value > 0.9
    assert event.threshold == 0.8
    assert event.message.startswith("BTCUSDT VPIN ")
    await assert_one_trip_paused_and_flattened(database, "vpin")


async def test_vpin_is_judged_at_market_time_when_the_feed_runs_behind_the_clock(
    start: Callable[[int], Awaitable[tuple[RiskService, ManualClock]]],
    generate: Callable[[int, Scenario], Awaitable[None]],
    database: str,
) -> None:
    await configure_bots(database, ["BTCUSDT"])
    await set_breaker(database, "connectivity", enabled=False)
    await generate(4, Scenario(toxic_flows=(ToxicFlow(DAY_0 + 2 * HOUR, DAY_0 + 4 * HOUR, buy_share=0.98),)))
    service, clock = await start(DAY_0 + 3 * DAY)  # the wall clock is days past the market data (a replay)
    assert await service.tick() == []  # no kline yet: the window ends at the clock and holds nothing
    await service.on_kline(kline(100.0, DAY_0 + 2 * HOUR - 1))  # market time: the calm flow's end
    assert service.market_ms == DAY_0 + 2 * HOUR - 1
    clock.now += 10_000  # the next read of the view, by the clock
    assert await service.tick() == []
    await service.on_kline(kline(100.0, DAY_0 + 4 * HOUR - 1))  # two hours of one-sided flow later
    clock.now += 10_000
    (event,) = await service.tick()
    assert event.breaker.value == "vpin"
    assert event.value is not None
    assert event.value > 0.9
    await assert_one_trip_paused_and_flattened(database, "vpin")


async def test_the_vix_shock_scenario_trips_the_macro_breaker(
    start: Callable[[int], Awaitable[tuple[RiskService, ManualClock]]],
    generate: Callable[[int, Scenario], Awaitable[None]],
    database: str,
) -> None:
    await set_breaker(database, "connectivity", enabled=False)
    # a day of hourly history first: the breaker scores a move against the 24 hours before its window
    shock = MacroShock(DAY_0 + 27 * HOUR, dxy_pct=0.0, vix_points=15.0)
    await generate(28, Scenario(macro_shocks=(shock,)))
    service, clock = await start(DAY_0 + 26 * HOUR + 30 * MINUTE)  # the 25 h and 26 h points: calm
    assert await service.tick() == []
    clock.now = DAY_0 + 27 * HOUR + 30 * MINUTE  # the 26 h and 27 h points: the jump
    (event,) = await service.tick()
    assert event.breaker.value == "macro"
    assert event.value is not None
    assert event.value > 10
    assert event.threshold == 8.0
    assert event.message.startswith("VIX moved +")
    await assert_one_trip_paused_and_flattened(database, "macro")


async def test_the_tick_trips_connectivity_by_the_clock(
    start: Callable[[int], Awaitable[tuple[RiskService, ManualClock]]], database: str
) -> None:
    service, clock = await start(START_MS)
    clock.now += 180_000
    assert await service.tick() == []
    clock.now += 1
    (event,) = await service.tick()
    assert (event.breaker.value, event.value) == ("connectivity", 180_001.0)
    assert await service.tick() == []
    await assert_one_trip_paused_and_flattened(database, "connectivity")

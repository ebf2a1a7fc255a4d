"""The risk service's tick against real NATS and PostgreSQL with an injected clock: correlation from
klines on the bus, VPIN and macro from rows the data writer stores behind their reader views, a
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
from services.risk import macro, vpin
from services.risk.service import REFRESH_MS, RiskService, build
from settings import roles
from tests.services.risk_events import kline
from tests.services.test_risk_service import START_MS, Clock, eventually, fetch, outbox_commands, settled

BOTS = {
    "BTCUSDT": UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60"),
    "ETHUSDT": UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f61"),
}
MINUTE = 60_000
DAY = 86_400_000
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
) -> AsyncIterator[Callable[[], Awaitable[tuple[RiskService, Clock]]]]:
    """Start the service (its own 30 Hz loop idle: the test ticks by hand) once the test set its rows."""
    await fresh_bus()
    started: list[RiskService] = []

    async def go() -> tuple[RiskService, Clock]:
        clock = Clock(START_MS)
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
    start: Callable[[], Awaitable[tuple[RiskService, Clock]]], database: str, nats: NatsClient
) -> None:
    await configure_bots(database, ["BTCUSDT", "ETHUSDT"])
    service, clock = await start()
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
    # Held: later ticks, by the same clock or a later one, trip nothing more.
    assert await service.tick() == []
    clock.now_ms += REFRESH_MS
    assert await service.tick() == []
    assert len(await trip_rows(database)) == 1


async def test_a_threshold_changed_in_risk_config_takes_effect_at_the_next_refresh(
    start: Callable[[], Awaitable[tuple[RiskService, Clock]]], database: str, nats: NatsClient
) -> None:
    await configure_bots(database, ["BTCUSDT", "ETHUSDT"])
    await set_breaker(database, "correlation", threshold=0.99)
    service, clock = await start()
    eth_returns = [2 * b + 3 * n for b, n in zip(BASE[:31], NOISE[:31], strict=True)]  # correlation 0.926
    await publish_closes(nats, "BTCUSDT", closes_of(BASE[:31], 100.0))
    await publish_closes(nats, "ETHUSDT", closes_of(eth_returns, 50.0))
    await eventually(lambda: settled(nats, "risk-klines"), "the klines")
    assert await service.tick() == []
    await set_breaker(database, "correlation", threshold=0.9)
    clock.now_ms += REFRESH_MS - 1
    assert await service.tick() == []  # not re-read yet
    clock.now_ms += 1
    (event,) = await service.tick()
    assert (event.breaker.value, event.threshold) == ("correlation", 0.9)
    assert event.value == pytest.approx(0.926, abs=1e-3)
    await assert_one_trip_paused_and_flattened(database, "correlation")


async def test_a_vpin_spike_of_a_traded_symbol_trips_the_vpin_breaker(
    start: Callable[[], Awaitable[tuple[RiskService, Clock]]],
    database: str,
    dsn_for: Callable[[str, str], str],
) -> None:
    writer = dsn_for(database, roles.DATA_WRITER)
    insert = "INSERT INTO market_data.metrics (symbol, metric, ts_ms, value) VALUES ($1, 'vpin', $2, $3)"
    await configure_bots(database, ["BTCUSDT"])
    await execute(writer, insert, "BTCUSDT", START_MS - 600_000, 0.5)
    await execute(writer, insert, "ETHUSDT", START_MS - 600_000, 0.99)  # no bot trades it
    await execute(writer, insert, "BTCUSDT", START_MS - 7_200_000, 0.95)  # older than the 1 h window
    service, clock = await start()
    assert await service.tick() == []
    await execute(writer, insert, "BTCUSDT", START_MS - 1_000, 0.93)
    assert await service.tick() == []  # the view is read at its own cadence
    clock.now_ms += vpin.READ_EVERY_MS
    (event,) = await service.tick()
    assert (event.breaker.value, event.value, event.threshold) == ("vpin", 0.93, 0.8)
    assert "BTCUSDT VPIN 0.930" in event.message
    await assert_one_trip_paused_and_flattened(database, "vpin")


async def test_a_vix_shock_trips_the_macro_breaker(
    start: Callable[[], Awaitable[tuple[RiskService, Clock]]],
    database: str,
    dsn_for: Callable[[str, str], str],
) -> None:
    writer = dsn_for(database, roles.DATA_WRITER)
    insert = "INSERT INTO market_data.macro_data (series, ts_ms, value) VALUES ($1, $2, $3)"
    for series, before, after in (("dxy", 104.0, 104.3), ("vix", 16.0, 16.5)):
        await execute(writer, insert, series, START_MS - 2 * DAY, before)
        await execute(writer, insert, series, START_MS - DAY, after)
    await execute(writer, insert, "vix", START_MS - 4 * DAY, 8.0)  # outside the three-day window
    service, clock = await start()
    assert await service.tick() == []
    await execute(writer, insert, "vix", START_MS, 24.0)
    clock.now_ms += macro.READ_EVERY_MS
    (event,) = await service.tick()
    assert (event.breaker.value, event.value, event.threshold) == ("macro", 0.5, 0.2)
    assert event.message.startswith("VIX moved +50.00%")
    await assert_one_trip_paused_and_flattened(database, "macro")


async def test_the_tick_trips_connectivity_by_the_clock(
    start: Callable[[], Awaitable[tuple[RiskService, Clock]]], database: str
) -> None:
    service, clock = await start()
    clock.now_ms += 180_000
    assert await service.tick() == []
    clock.now_ms += 1
    (event,) = await service.tick()
    assert (event.breaker.value, event.value) == ("connectivity", 180_001.0)
    assert await service.tick() == []
    await assert_one_trip_paused_and_flattened(database, "connectivity")

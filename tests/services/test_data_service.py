"""The data service as an app: in-process at demo speed against real servers, its lazy module `app`,
its GORDON_DATA_* options, and `faststream run services.data:app` as a process stopped by
SIGINT with nothing half-written."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import sys
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import asyncpg
import pytest

from services.data import service
from services.data.extras import SOURCES
from services.data.feed import MINUTE_MS, Walk
from services.runtime import NotConfigured
from settings.environment import SettingsError

ROOT = Path(__file__).resolve().parents[2]
FASTSTREAM = Path(sys.executable).parent / "faststream"
START = 1_704_067_200_000  # 2024-01-01T00:00Z


async def until(condition: Callable[[], object], timeout_s: float = 30.0) -> None:
    """Await `condition()` (a coroutine function's result or a plain value) until it is truthy."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = condition()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.05)


async def counts(conn: asyncpg.Connection) -> tuple[int, int, int]:
    """(spot 1m rows, all kline rows of both markets, outbox rows)."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM market_data.spot_klines WHERE tf = '1m') AS minutes, "
        "(SELECT count(*) FROM market_data.v_klines_reader) AS klines, "
        "(SELECT count(*) FROM bus.outbox) AS events"
    )
    assert row is not None
    return row["minutes"], row["klines"], row["events"]


async def test_the_app_feeds_at_demo_speed_never_ahead_of_simulated_time(
    nats_url: str, database: str
) -> None:
    # 1 simulated minute every 50 ms of the wall clock.
    data = service.build(
        nats_url=nats_url, database_url=database, speed=1_200, symbols=("ETHUSDT",), seed=3, start_ms=START
    )
    owner = await asyncpg.connect(database)
    try:
        await data.app.start()
        try:
            await until(lambda: data.feeder.ingested >= 40)
        finally:
            await data.app.stop()
        assert data.feeder.sim is not None
        stopped_at = data.feeder.sim.now()
        minutes, klines, events = await counts(owner)
        await asyncio.sleep(0.3)
        assert await counts(owner) == (minutes, klines, events)  # nothing written after the stop
        assert klines == events == data.feeder.ingested
        # Each spot candle brought its perpetual twin, published and checked for freshness like it.
        perp_minutes = await owner.fetchval("SELECT count(*) FROM market_data.perp_klines WHERE tf = '1m'")
        assert perp_minutes == minutes
        assert {"source:binance-spot-demo", "source:binance-perp-demo"} <= set(data.runtime.checks)

        rows = await owner.fetch(
            "SELECT open_time_ms, close, volume FROM market_data.spot_klines "
            "WHERE tf = '1m' ORDER BY open_time_ms"
        )
        walk = list(islice(Walk("ETHUSDT", seed=3, start_ms=START), len(rows)))
        assert [(r["open_time_ms"], r["close"], r["volume"]) for r in rows] == [
            (c.open_time_ms, c.close, c.volume) for c in walk
        ]
        last_close = rows[-1]["open_time_ms"] + MINUTE_MS
        assert last_close <= stopped_at  # never ingested a minute before it closed
        assert stopped_at - last_close < 10 * MINUTE_MS  # and kept up with simulated time
    finally:
        await owner.close()


def test_importing_the_module_needs_no_environment_but_app_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GORDON_NATS_URL", raising=False)
    monkeypatch.delenv("GORDON_DATABASE_URL", raising=False)
    import services.data as module

    importlib.reload(service)
    with pytest.raises(NotConfigured, match="GORDON_NATS_URL is not set"):
        _ = module.app
    with pytest.raises(AttributeError):
        _ = module.nothing_here


def test_options_from_the_environment() -> None:
    assert service.options_from_env({}) == {}
    env = {
        service.SPEED: "120",
        service.SYMBOLS: "btcusdt, SOLUSDT",
        service.SEED: "42",
        service.START_MS: str(START),
        service.BACKFILL: "30",
    }
    assert service.options_from_env(env) == {
        "speed": 120.0,
        "symbols": ("BTCUSDT", "SOLUSDT"),
        "seed": 42,
        "start_ms": START,
        "backfill_minutes": 30,
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (service.SPEED, "fast"),
        (service.SPEED, "0"),
        (service.SYMBOLS, "BTC/USDT"),
        (service.SEED, "1.5"),
        (service.START_MS, "-1"),
        (service.BACKFILL, "-5"),
    ],
)
def test_a_bad_option_is_one_line_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as error:
        service.options_from_env({name: value})
    message = str(error.value)
    assert message.startswith(f"{name}: expected")
    assert "\n" not in message


async def test_faststream_run_feeds_and_stops_cleanly_on_sigint(nats_url: str, database: str) -> None:
    env = {
        **os.environ,
        "GORDON_NATS_URL": nats_url,
        "GORDON_DATABASE_URL": database,
        service.SPEED: "1200",
        service.START_MS: str(START),
        service.SYMBOLS: "BTCUSDT,SOLUSDT",
    }
    owner = await asyncpg.connect(database)
    process = await asyncio.create_subprocess_exec(
        str(FASTSTREAM),
        "run",
        "services.data:app",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:

        async def fed() -> bool:
            if process.returncode is not None:
                raise AssertionError(f"faststream exited {process.returncode} before feeding")
            minutes, _, _ = await counts(owner)
            return minutes >= 2 * 20

        await until(fed, 60)
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()[-2000:]

        minutes, klines, events = await counts(owner)
        assert klines == events  # every stored candle has its event: no transaction was cut in half
        assert minutes >= 40
        symbols = await owner.fetch("SELECT DISTINCT symbol FROM market_data.spot_klines ORDER BY 1")
        assert [r["symbol"] for r in symbols] == ["BTCUSDT", "SOLUSDT"]
        sources = {r["source"] for r in await owner.fetch("SELECT source FROM market_data.source_freshness")}
        # The perpetual twin and the generated market data ride along: each candle's perp candle and
        # trades, a long/short ratio every 5 min.
        assert {
            "binance-spot-demo",
            "binance-perp-demo",
            SOURCES["agg_trades"],
            SOURCES["metrics"],
        } <= sources
        assert await owner.fetchval("SELECT count(DISTINCT symbol) FROM market_data.agg_trades") == 2
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await owner.close()

"""The five services as `gordon up` runs them: each one's FastStream app, started in this process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import asyncpg

from gordon.runtime.servers import Endpoints
from gordon.stopping import until_cancelled
from registry.ids import uuid7
from services.bot.strategy import NAME as STRATEGY
from services.http_server import free_port, url_of
from services.service_app import ServiceApp
from settings.environment import WORKERS_PORT, Settings, port_variable

NAMES = ("data", "executor", "risk", "manager", "bot")
"""Start order: prices first, then the executor and risk, then the bots that trade on them."""

DEMO_SPEED = 120.0
"""The demo feed runs one simulated minute every half second."""
DEMO_BACKFILL_MINUTES = 120
DAY_MS = 24 * 3600 * 1000
DEMO_BOTS = (
    ("BTCUSDT", {"fast": 5, "slow": 20, "qty": "0.01"}),
    ("ETHUSDT", {"fast": 5, "slow": 20, "qty": "0.2"}),
)


def demo_start_ms(now_ms: int) -> int:
    """Where the demo feed starts: two to three days back, half its backfill after a UTC midnight, so
    the backfill closes every cadence (5 min, hourly, 8 h, daily) and every market-data table has rows
    from the first seconds of `make run` instead of up to a simulated day later."""
    return (now_ms - 2 * DAY_MS) // DAY_MS * DAY_MS + DEMO_BACKFILL_MINUTES // 2 * 60_000


class Built(Protocol):
    @property
    def app(self) -> ServiceApp: ...


Service = Callable[[Endpoints], Awaitable[None]]


def _build(name: str, endpoints: Endpoints, demo: bool) -> Built:
    urls: dict[str, Any] = {"nats_url": endpoints.nats_url, "database_url": endpoints.database_url}
    if name == "data":
        from services.data.service import build as data

        if demo:
            return data(
                **urls,
                speed=DEMO_SPEED,
                start_ms=demo_start_ms(time.time_ns() // 1_000_000),
                backfill_minutes=DEMO_BACKFILL_MINUTES,
            )
        return data(**urls)
    if name == "executor":
        from services.executor.service import build as executor

        return executor(**urls)
    if name == "risk":
        from services.risk.service import build as risk

        return risk(**urls)
    if name == "manager":
        from services.manager.service import build as manager

        return manager(**urls, demo=demo, announce=_announce)
    if name == "bot":
        from services.bot.service import build as bot

        return bot(**urls)
    raise ValueError(f"unknown service {name!r} (known: {', '.join(NAMES)})")


def _announce(line: str) -> None:
    print(f"gordon up: {line}", file=sys.stderr, flush=True)


def fix_ports(names: Sequence[str], settings: Settings) -> dict[str, str]:
    """Give each service in `names` a concrete HTTP port (a 0 becomes a free one, chosen once) in this
    process's environment, where the services read it, so the manager knows its peers; returns each
    service's base URL."""
    urls = {}
    for name in names:
        host, port = settings.http_address(name), settings.http_port(name)
        port = port or free_port(host)
        os.environ[port_variable(name)] = str(port)
        urls[name] = url_of(host, port)
    return urls


def fix_workers_port(settings: Settings) -> int:
    """The port of the drain's and projection runners' `/metrics` (a 0 becomes a free one)."""
    port = settings.workers_port or free_port(settings.http_host)
    os.environ[WORKERS_PORT] = str(port)
    return port


def service(name: str, *, demo: bool = False) -> Service:
    """A supervised task running service `name` until cancelled, then stopping its app cleanly."""

    async def run(endpoints: Endpoints) -> None:
        async def main(stop: asyncio.Event) -> None:
            built = _build(name, endpoints, demo)
            await built.app.start()
            try:
                await stop.wait()
            finally:
                await built.app.stop()

        await until_cancelled(f"service {name}", main)

    run.__qualname__ = f"service:{name}"
    return run


async def seed_demo_bots(database_url: str) -> int:
    """Two SMA-crossover bots on spot 1m klines, unless bots are configured already; returns how many."""
    conn = await asyncpg.connect(database_url)
    try:
        if await conn.fetchval("SELECT count(*) FROM trading.bot_configs"):
            return 0
        now = time.time_ns() // 1_000_000
        for symbol, params in DEMO_BOTS:
            await conn.execute(
                "INSERT INTO trading.bot_configs (bot_id, symbol, market, tf, strategy, params, created_ms) "
                "VALUES ($1, $2, 'spot', '1m', $3, $4::jsonb, $5)",
                uuid7(),
                symbol,
                STRATEGY,
                json.dumps(params),
                now,
            )
        return len(DEMO_BOTS)
    finally:
        await conn.close()

"""The data service app: `faststream run services.data:app` feeds the seeded market into
`market_data` and the bus, at wall-clock pace or faster for demos.

Beyond GORDON_NATS_URL and GORDON_DATABASE_URL it reads GORDON_DATA_SPEED (simulated minutes per clock
minute), GORDON_DATA_SYMBOLS (comma-separated), GORDON_DATA_SEED, GORDON_DATA_START_MS and
GORDON_DATA_BACKFILL_MINUTES.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from faststream.nats import NatsBroker

from registry.subject import Service
from schemas.common import Market, Timeframe
from services.data.extras import Extras
from services.data.feed import DEFAULT_SYMBOLS
from services.data.generators.scenario import CALM, Scenario
from services.data.ingest import HIGHER, Ingest
from services.data.perp import Perp
from services.data.runner import Feeder, FeedOptions
from services.readiness import Failed
from services.runtime import ServiceRuntime, service_app, wall_clock_ms
from services.service_app import ServiceApp
from settings.environment import SettingsError

DEFAULT_SEED = 7

SPEED = "GORDON_DATA_SPEED"
SYMBOLS = "GORDON_DATA_SYMBOLS"
SEED = "GORDON_DATA_SEED"
START_MS = "GORDON_DATA_START_MS"
BACKFILL = "GORDON_DATA_BACKFILL_MINUTES"


@dataclass
class DataService:
    """The app and its parts; tests drive `feeder` and read `ingest` directly."""

    app: ServiceApp
    broker: NatsBroker
    runtime: ServiceRuntime
    ingest: Ingest
    feeder: Feeder
    extras: Extras | None
    perp: Perp | None


def build(
    *,
    nats_url: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], int] = wall_clock_ms,
    speed: float = 1.0,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    seed: int = DEFAULT_SEED,
    start_ms: int | None = None,
    backfill_minutes: int = 0,
    market: Market = Market.SPOT,
    timeframes: Sequence[Timeframe] = HIGHER,
    extras: bool = True,
    perp: bool = True,
    scenario: Scenario = CALM,
) -> DataService:
    """The data service; the feed starts after the broker connects and stops before it disconnects.

    With `extras` each candle also brings the generated market data (`services.data.extras`), the first
    symbol carrying macro and sentiment; `scenario` scripts toxic flow and macro shocks into it. With
    `perp` a spot feed also ingests each candle's perpetual twin (`services.data.perp`), published as
    klines of market perp, its basis tied to the funding series when `extras` writes one."""
    options = FeedOptions(
        symbols=tuple(symbols),
        seed=seed,
        speed=speed,
        start_ms=start_ms,
        backfill_minutes=backfill_minutes,
    )
    app, broker, runtime = service_app(
        Service.DATA, nats_url=nats_url, database_url=database_url, clock=clock
    )
    more = Extras(runtime.clock, seed=seed, lead=options.symbols[0], scenario=scenario) if extras else None
    twin = None
    if perp and market is Market.SPOT:
        twin_ingest = Ingest(runtime.outbox, runtime.clock, market=Market.PERP, timeframes=timeframes)
        twin = Perp(twin_ingest, seed=seed, funding=extras)
    ingest = Ingest(
        runtime.outbox,
        runtime.clock,
        market=market,
        timeframes=timeframes,
        extras=None if more is None else more.on_candle,
        derived=None if twin is None else twin.on_candle,
    )
    feeder = Feeder(lambda: runtime.pool, ingest, options)
    for source in (ingest.source, *(() if twin is None else (twin.ingest.source,))):
        runtime.checks[f"source:{source}"] = partial(source_fresh, runtime, source, speed)
    app.after_startup(feeder.start)
    app.on_shutdown(feeder.stop)
    return DataService(app, broker, runtime, ingest, feeder, more, twin)


FRESH_CANDLES = 3
"""Readiness: a source is stale once it has missed this many candles (wall time at the feed's speed)."""
MIN_FRESH_S = 10.0

FRESHNESS = "SELECT last_ingest_ms FROM market_data.source_freshness WHERE source = $1"


async def source_fresh(runtime: ServiceRuntime, source: str, speed: float) -> str:
    """Readiness of one source: it ingested within FRESH_CANDLES candle intervals (at least 10 s)."""
    bound_ms = max(FRESH_CANDLES * 60_000 / speed, MIN_FRESH_S * 1000)
    last = await runtime.pool.fetchval(FRESHNESS, source)
    if last is None:
        raise Failed(f"{source} has ingested nothing yet")
    age_ms = runtime.clock() - int(last)
    if age_ms > bound_ms:
        raise Failed(f"{source} last ingested {age_ms / 1000:.1f} s ago (bound {bound_ms / 1000:g} s)")
    return f"last ingested {age_ms / 1000:.1f} s ago (bound {bound_ms / 1000:g} s)"


def options_from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`build` keyword arguments from GORDON_DATA_*; a bad value raises one line naming the variable."""
    env = os.environ if env is None else env
    out: dict[str, Any] = {}
    if value := env.get(SPEED, "").strip():
        out["speed"] = _number(SPEED, value, float, "a positive number such as 120")
        if not out["speed"] > 0:
            raise SettingsError(f"{SPEED}: expected a positive number such as 120, got {value!r}")
    if value := env.get(SYMBOLS, "").strip():
        symbols = tuple(s.strip().upper() for s in value.split(",") if s.strip())
        bad = [s for s in symbols if not (s.isalnum() and s.isascii() and 2 <= len(s) <= 20)]
        if bad or not symbols:
            raise SettingsError(f"{SYMBOLS}: expected symbols like BTCUSDT,ETHUSDT, got {value!r}")
        out["symbols"] = symbols
    if value := env.get(SEED, "").strip():
        out["seed"] = _number(SEED, value, int, "an integer")
    if value := env.get(START_MS, "").strip():
        out["start_ms"] = _number(START_MS, value, int, "UTC milliseconds such as 1704067200000")
        if out["start_ms"] < 0:
            raise SettingsError(f"{START_MS}: expected UTC milliseconds such as 1704067200000, got {value!r}")
    if value := env.get(BACKFILL, "").strip():
        out["backfill_minutes"] = _number(BACKFILL, value, int, "a number of minutes, 0 or more")
        if out["backfill_minutes"] < 0:
            raise SettingsError(f"{BACKFILL}: expected a number of minutes, 0 or more, got {value!r}")
    return out


def _number(name: str, value: str, kind: Callable[[str], Any], expected: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise SettingsError(f"{name}: expected {expected}, got {value!r}") from None


def build_from_env() -> DataService:
    """The data service with its GORDON_DATA_* options read from the environment."""
    return build(**options_from_env())

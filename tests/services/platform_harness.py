"""The whole platform in one event loop for end-to-end tests: the drain, the live projection runners and the
five service apps built with explicit URLs, each stoppable and restartable on its own, plus folds of the
write-side tables that the read models and the stream are checked against."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from domain.latch import LatchState
from domain.orders import OrderState, apply_order
from domain.positions import PositionState, apply_fill
from producers.drain.runner import connect_nats, run_drain
from projections import generations
from projections import latch as latch_projection
from projections import orders as orders_projection
from projections import positions as positions_projection
from projections.catalog import PROJECTIONS
from projections.runner import Runner, RunnerConfig
from registry import headers as h
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.market import KLINES, Kline
from schemas.trading import Fill, OrderEvent
from services.bot.strategy import NAME as STRATEGY
from services.executor.holdings import FILL_COLUMNS
from services.executor.reconcile import ORDER_EVENTS
from services.risk.halt import read_view
from services.runtime import wall_clock_ms
from settings import nats_login, roles
from settings.dsn import with_user

NAMES = ("executor", "risk", "manager", "bot", "data")
"""Start order here: every consumer's durable exists before the first kline is published."""

DAY_MS = 86_400_000
FAST_RUNNER = RunnerConfig(batch_size=500)


@dataclass(frozen=True)
class Options:
    """How the platform runs: feed speed and history, the risk service's capital, the bots."""

    speed: float = 600.0  # one simulated minute every 100 ms
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    seed: int = 11
    backfill_minutes: int = 30
    capital: Decimal = Decimal("1000000")
    bots: tuple[tuple[str, dict[str, Any]], ...] = (
        ("BTCUSDT", {"fast": 2, "slow": 5, "qty": "0.01"}),
        ("ETHUSDT", {"fast": 2, "slow": 5, "qty": "0.2"}),
    )
    market: str = "spot"
    """The market every bot trades (the feed writes both)."""
    history_first: bool = False
    """Ingest the backfill before the consumers start: they see live klines only (the bots warm up
    from the stored history), at the feed's pace rather than in one burst."""


@dataclass
class Platform:
    """The running platform; `services[name]` is the built service object (its app started)."""

    nats_url: str
    database: str
    options: Options
    clock: Callable[[], int] = wall_clock_ms
    start_ms: int = 0
    services: dict[str, Any] = field(default_factory=dict)
    bot_ids: list[UUID] = field(default_factory=list)
    restarts: Counter[str] = field(default_factory=Counter)
    _drain_stop: asyncio.Event = field(default_factory=asyncio.Event)
    _drain: asyncio.Task[Any] | None = None
    _runners_stop: asyncio.Event = field(default_factory=asyncio.Event)
    _runners: list[asyncio.Task[Any]] = field(default_factory=list)
    _nats: NatsClient | None = None

    def build(self, name: str) -> Any:
        """Build service `name` with explicit URLs and the shared clock (not started)."""
        urls: dict[str, Any] = {"nats_url": self.nats_url, "database_url": self.database, "clock": self.clock}
        o = self.options
        if name == "data":
            from services.data.service import build as data

            return data(
                **urls,
                speed=o.speed,
                symbols=o.symbols,
                seed=o.seed,
                start_ms=self.start_ms,
                backfill_minutes=o.backfill_minutes,
            )
        if name == "executor":
            from services.executor.service import build as executor

            return executor(**urls, sweep_interval_s=0.5)
        if name == "risk":
            from services.risk.service import build as risk

            return risk(**urls, capital=o.capital, check_interval_s=0.2)
        if name == "manager":
            from services.manager.service import build as manager

            return manager(**urls)
        if name == "bot":
            from services.bot.service import build as bot

            return bot(**urls)  # the running bots of trading.bot_configs
        raise ValueError(f"unknown service {name!r}")

    async def start(self) -> None:
        """Bots configured, projection generations live, then the drain, the runners and the services."""
        # A feed two days in the past: every candle has closed by the wall clock the executor prices at.
        self.start_ms = self.clock() - 2 * DAY_MS
        owner = await asyncpg.connect(self.database)
        try:
            for projection in PROJECTIONS.values():
                await generations.ensure_live(owner, projection)
            for symbol, params in self.options.bots:
                bot_id = uuid7()
                await owner.execute(
                    "INSERT INTO trading.bot_configs (bot_id, symbol, market, tf, strategy, params, "
                    "created_ms) VALUES ($1, $2, $6, '1m', $3, $4::jsonb, $5)",
                    bot_id,
                    symbol,
                    STRATEGY,
                    json.dumps(params),
                    self.clock(),
                    self.options.market,
                )
                self.bot_ids.append(bot_id)
        finally:
            await owner.close()
        self.start_drain()
        self._nats = await connect_nats(self.nats_url, "e2e-projections", nats_login.PROJECTOR)
        self.start_runners()
        order: tuple[str, ...] = NAMES
        if self.options.history_first:
            order = ("data", *(n for n in NAMES if n != "data"))
        for name in order:
            await self.start_service(name)
            if name == "data" and self.options.history_first:
                await self._backfilled()

    async def _backfilled(self) -> None:
        owner = await asyncpg.connect(self.database)
        try:
            want = self.options.backfill_minutes * len(self.options.symbols)
            query = "SELECT count(*) FROM market_data.spot_klines WHERE tf = '1m'"
            await until(lambda: _at_least(owner, query, want), "the backfill", 30, self)
        finally:
            await owner.close()

    def start_drain(self) -> None:
        self._drain_stop = asyncio.Event()
        dsn = with_user(self.database, roles.DRAIN)
        self._drain = asyncio.create_task(run_drain(self.nats_url, dsn, self._drain_stop), name="drain")

    async def stop_drain(self) -> None:
        task, self._drain = self._drain, None
        self._drain_stop.set()
        if task is not None:
            await asyncio.wait_for(task, 30)

    def start_runners(self) -> None:
        assert self._nats is not None
        self._runners_stop = asyncio.Event()
        dsn = with_user(self.database, roles.PROJECTOR)
        js = self._nats.jetstream()
        self._runners = [
            asyncio.create_task(
                Runner(p, dsn, js, REGISTRY, FAST_RUNNER).run(self._runners_stop), name=f"proj-{p.name}"
            )
            for p in PROJECTIONS.values()
        ]

    async def stop_runners(self) -> None:
        self._runners_stop.set()
        tasks, self._runners = self._runners, []
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks), 30)

    async def start_service(self, name: str) -> None:
        service = self.build(name)
        await service.app.start()
        self.services[name] = service

    async def stop_service(self, name: str) -> None:
        service = self.services.pop(name, None)
        if service is not None:
            await asyncio.wait_for(service.app.stop(), 30)

    async def restart(self, name: str, while_down: Callable[[], Awaitable[None]] | None = None) -> None:
        """Stop `name`, run `while_down`, then start a freshly built one."""
        await self.stop_service(name)
        if while_down is not None:
            await while_down()
        await self.start_service(name)
        self.restarts[name] += 1

    async def stop(self) -> None:
        """Feed first, then the consumers, then the drain and the runners; every part even if one fails."""
        failures: list[BaseException] = []
        for name in reversed(NAMES):
            try:
                await self.stop_service(name)
            except Exception as exc:
                failures.append(exc)
        for stop in (self.stop_drain, self.stop_runners):
            try:
                await stop()
            except Exception as exc:
                failures.append(exc)
        if self._nats is not None:
            with contextlib.suppress(Exception):
                await self._nats.close()
        self.check_runners()
        if failures:
            raise failures[0]

    def check_runners(self) -> None:
        """A runner or the drain that ended by an error fails the test (a halted projection included)."""
        for task in [*self._runners, *([self._drain] if self._drain else [])]:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise AssertionError(f"{task.get_name()} failed: {task.exception()!r}")


async def until(
    condition: Callable[[], Awaitable[object]],
    what: str,
    timeout_s: float = 30.0,
    platform: Platform | None = None,
) -> None:
    """Poll `condition` until truthy; fail naming `what` after `timeout_s` (a failed runner fails at once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await condition():
        if platform is not None:
            platform.check_runners()
        assert loop.time() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        await asyncio.sleep(0.05)


async def count(conn: asyncpg.Connection, query: str, *args: Any) -> int:
    return int(await conn.fetchval(query, *args))


async def outcomes(conn: asyncpg.Connection, where: str = "true") -> dict[str, int]:
    """Intent receipts counted by outcome."""
    query = f"SELECT outcome, count(*) AS n FROM trading.intent_receipts WHERE {where} GROUP BY 1"
    return {r["outcome"]: r["n"] for r in await conn.fetch(query)}


async def _at_least(conn: asyncpg.Connection, query: str, n: int) -> bool:
    return await count(conn, query) >= n


async def durables_settled(js: JetStreamContext) -> bool:
    """Every durable on gordon-bus has been delivered and has acked everything."""
    for info in await js.consumers_info(REGISTRY.bus.name):
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def fills_by_position(conn: asyncpg.Connection) -> dict[tuple[UUID, str], PositionState]:
    """The executor's own trading.fill_events folded with `apply_fill`, per bot and symbol."""
    out: dict[tuple[UUID, str], PositionState] = {}
    query = f"SELECT {FILL_COLUMNS} FROM trading.fill_events ORDER BY bot_id, symbol, version"
    for row in await conn.fetch(query):
        fill = Fill(**dict(row))
        out[(fill.bot_id, fill.symbol)] = apply_fill(out.get((fill.bot_id, fill.symbol)), fill)
    return out


async def orders_from_events(conn: asyncpg.Connection) -> dict[UUID, OrderState]:
    out: dict[UUID, OrderState] = {}
    for row in await conn.fetch(ORDER_EVENTS):
        event = OrderEvent(**dict(row))
        out[event.order_id] = apply_order(out.get(event.order_id), event)
    return out


async def latch_from_events(conn: asyncpg.Connection) -> dict[str, LatchState]:
    view = await read_view(conn)
    return {view.state.latch_id: view.state} if view.state.version else {}


async def read_positions(conn: asyncpg.Connection) -> dict[tuple[UUID, str], PositionState]:
    table = positions_projection.TABLE
    rows = await conn.fetch(f"SELECT {', '.join(table.columns)} FROM trading.positions")
    return {(s.bot_id, s.symbol): s for s in map(table.state, rows)}


async def read_orders(conn: asyncpg.Connection) -> dict[UUID, OrderState]:
    table = orders_projection.TABLE
    rows = await conn.fetch(f"SELECT {', '.join(table.columns)} FROM trading.orders")
    return {s.order_id: s for s in map(table.state, rows)}


async def read_latch(conn: asyncpg.Connection) -> dict[str, LatchState]:
    table = latch_projection.TABLE
    rows = await conn.fetch(f"SELECT {', '.join(table.columns)} FROM trading.risk_state")
    return {s.latch_id: s for s in map(table.state, rows)}


async def projections_match(conn: asyncpg.Connection) -> bool:
    """Each read model equals the fold of its write-side table right now."""
    return (
        await read_positions(conn) == await fills_by_position(conn)
        and await read_orders(conn) == await orders_from_events(conn)
        and await read_latch(conn) == await latch_from_events(conn)
    )


def net_qty(positions: dict[tuple[UUID, str], PositionState]) -> dict[tuple[UUID, str], Decimal]:
    return {key: state.qty for key, state in positions.items()}


@dataclass(frozen=True)
class StreamCounts:
    """What gordon-bus holds: Msg-Ids with how often each occurs, klines by (market, symbol, tf, open
    time)."""

    msg_ids: Counter[str]
    klines: Counter[tuple[str, str, str, int]]
    messages: int


async def stream_counts(js: JetStreamContext) -> StreamCounts:
    """Read every message of gordon-bus once (stream order) and count Msg-Ids and kline keys."""
    info = await js.stream_info(REGISTRY.bus.name)
    codec = REGISTRY.codec(KLINES)
    msg_ids: Counter[str] = Counter()
    klines: Counter[tuple[str, str, str, int]] = Counter()
    messages = 0
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(REGISTRY.bus.name, seq)
        messages += 1
        msg_ids[(msg.headers or {}).get(h.MSG_ID, "")] += 1
        if (msg.subject or "").startswith("market.klines."):
            kline = codec.decode(msg.data or b"")
            assert isinstance(kline, Kline)
            klines[(kline.market.value, kline.symbol, kline.tf.value, kline.open_time_ms)] += 1
    return StreamCounts(msg_ids, klines, messages)

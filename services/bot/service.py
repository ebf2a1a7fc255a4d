"""The bot service: one durable kline consumer per running bot, each folding its SMA crossover strategy
and writing order intents through the outbox (`faststream run services.bot:app`).

Subscribers must exist before the broker starts, so the bots are fixed per start: given to `build`
(tests, tools), or by default read from trading.bot_configs (desired_state 'running') in a startup hook
that runs after the pool opens and before the broker connects. A bot added later runs from the next
start; its durable then begins at new klines and it warms up from market_data.v_klines_reader.
Each start opens a run per bot in trading.runs and a clean shutdown stops them (services/bot/runs.py).
A bot runs only in the process holding its lease (services/bot/leases.py): a bot another live process
runs is skipped at start, so two processes never share its durable or its run. The start records each
run's subscription, lease row and 'started' event in one transaction; a clean stop its 'stopped' event
and removes the lease rows in the runs' stopping transaction, then frees the locks. While it runs, a
keeper task reopens a lost lease connection and retakes the locks (`retake`); a bot whose lock another
process took meanwhile is given up: its transactions fail, and the clean stop leaves its run and row alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast
from uuid import UUID

import asyncpg
from faststream.nats import NatsBroker

from consumers.subscribers import bot_klines
from registry.subject import Service
from schemas.market import Kline
from services.bot.config import BotConfig, load_running
from services.bot.leases import Leases, Retaken
from services.bot.runner import DEFAULT_VALIDITY_MS, BotRunner
from services.bot.runs import open_runs, record_subscriptions, stop_runs
from services.runtime import KLINE_SILENCE_S, ServiceRuntime, service_app, wall_clock_ms
from services.service_app import ServiceApp
from settings.connections import CONNECTION_ERRORS
from settings.dsn import with_user
from stores.bot_events import BotEventKind, record

log = logging.getLogger(__name__)

DEFAULT_LEASE_WAIT_S = 5.0
DEFAULT_KEEP_INTERVAL_S = 1.0


@dataclass
class BotService:
    """The app, its broker and runtime, its bots' leases, and a runner per subscribed bot."""

    app: ServiceApp
    broker: NatsBroker
    runtime: ServiceRuntime
    leases: Leases
    validity_ms: int = DEFAULT_VALIDITY_MS
    wanted: list[BotConfig] | None = None
    """The bots given to `build`; None: the running bots of trading.bot_configs, read at start."""
    lease_wait_s: float = DEFAULT_LEASE_WAIT_S
    """How long the start retries a bot's lease before leaving the bot to the process holding it."""
    runners: dict[UUID, BotRunner] = field(default_factory=dict)
    runs: dict[UUID, UUID] = field(default_factory=dict)
    """The run (`trading.runs`) of each bot this process runs, by bot id."""
    keep_interval_s: float = DEFAULT_KEEP_INTERVAL_S
    """How often the lease keeper checks the lock connection (`retake`)."""
    _keeper: asyncio.Task[None] | None = field(default=None, init=False)

    def subscribe(self, config: BotConfig) -> BotRunner:
        """Register `config`'s durable consumer (before the broker starts); once per bot."""
        if config.bot_id in self.runners:
            return self.runners[config.bot_id]
        runner = BotRunner(config, self.runtime, self.validity_ms, self.leases)

        async def on_kline(kline: Kline) -> None:
            await runner.handle(kline)

        bot_klines(self.broker, **config.durable_values)(on_kline)
        self.runners[config.bot_id] = runner
        return runner

    async def start(self) -> None:
        """The startup hook (the pool is open, the broker not yet): lease the bots, subscribe those leased
        and open their runs with their subscriptions, lease rows and 'started' events."""
        configs = self.wanted
        if configs is None:
            async with self.runtime.pool.acquire() as proxy:
                configs = await load_running(cast(asyncpg.Connection, proxy))
        leased = set(await self.leases.take([c.bot_id for c in configs], self.lease_wait_s))
        for config in configs:
            if config.bot_id in leased:
                self.subscribe(config)
        log.info("bot service: %d bot(s) running", len(self.runners))
        if not self.runners:
            return
        await self._open(list(self.runners), f"run by {self.leases.holder}")
        self._keeper = asyncio.create_task(self._keep(), name="bot-lease-keeper")

    async def _open(self, bot_ids: list[UUID], detail: str) -> None:
        """Open a run per bot (stopping one left running) with its subscription, lease row and 'started'
        event, in one transaction."""
        now = self.runtime.clock()
        async with self.runtime.pool.acquire() as proxy, proxy.transaction():
            conn = cast(asyncpg.Connection, proxy)
            runs = await open_runs(conn, bot_ids, now)
            await record_subscriptions(conn, [self.runners[b].config for b in bot_ids], runs)
            await self.leases.claim(conn, runs, now)
            await record(conn, BotEventKind.STARTED, list(runs.items()), detail, now)
        self.runs.update(runs)

    async def retake(self) -> Retaken:
        """One pass of the lease keeper: retake the locks of a lost lease connection, and open a new
        run for each bot whose row another holder wrote meanwhile (it holds no lock: it does not run
        the bot; its run is stopped)."""
        retaken = await self.leases.retake()
        if retaken.reclaim:
            await self._open(retaken.reclaim, f"taken back by {self.leases.holder}")
            log.warning("bot(s) %s taken back after the lease connection was lost", retaken.reclaim)
        return retaken

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.keep_interval_s)
            try:
                await self.retake()
            except CONNECTION_ERRORS as exc:
                log.warning("lease connection down (%s); retrying in %ss", exc, self.keep_interval_s)

    async def stop(self) -> None:
        """The shutdown hook (the pool still open): stop this process's runs, log 'stopped', remove the
        lease rows, then free the locks. The runs of bots given up belong to the process running them."""
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        runs = {bot: run for bot, run in self.runs.items() if bot not in self.leases.lost}
        if runs:
            now = self.runtime.clock()
            async with self.runtime.pool.acquire() as proxy, proxy.transaction():
                conn = cast(asyncpg.Connection, proxy)
                await stop_runs(conn, list(runs.values()), now)
                await record(conn, BotEventKind.STOPPED, list(runs.items()), "clean shutdown", now)
                await self.leases.remove(conn)
        await self.leases.release()


def build(
    *,
    nats_url: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], int] = wall_clock_ms,
    bots: Sequence[BotConfig] | None = None,
    validity_ms: int = DEFAULT_VALIDITY_MS,
    lease_wait_s: float = DEFAULT_LEASE_WAIT_S,
    keep_interval_s: float = DEFAULT_KEEP_INTERVAL_S,
) -> BotService:
    """The bot service; `bots=None` reads the running bots from the database at startup."""
    if validity_ms <= 0:
        raise ValueError(f"intent validity must be positive, got {validity_ms} ms")
    app, broker, runtime = service_app(
        Service.BOT,
        nats_url=nats_url,
        database_url=database_url,
        clock=clock,
        max_silence_s=KLINE_SILENCE_S,
    )
    leases = Leases(with_user(runtime.database_url, runtime.role))
    wanted = None if bots is None else list(bots)
    service = BotService(
        app, broker, runtime, leases, validity_ms, wanted, lease_wait_s, keep_interval_s=keep_interval_s
    )
    runtime.checks["leases"] = leases.check
    app.on_startup(service.start)
    app.on_shutdown(service.stop)
    return service

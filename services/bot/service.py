"""The bot service: one durable kline consumer per running bot, each folding its SMA crossover strategy
and writing order intents through the outbox (`faststream run services.bot:app`).

Subscribers must exist before the broker starts, so the bots are fixed per start: given to `build`
(tests, tools), or by default read from trading.bot_configs (desired_state 'running') in a startup hook
that runs after the pool opens and before the broker connects. A bot added later runs from the next
start; its durable then begins at new klines and it warms up from market_data.v_klines_reader.
Each start opens a run per bot in trading.runs and a clean shutdown stops them (services/bot/runs.py).
"""

from __future__ import annotations

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
from services.bot.runner import DEFAULT_VALIDITY_MS, BotRunner
from services.bot.runs import open_runs, stop_runs
from services.runtime import KLINE_SILENCE_S, ServiceRuntime, service_app, wall_clock_ms
from services.service_app import ServiceApp

log = logging.getLogger(__name__)


@dataclass
class BotService:
    """The app, its broker and runtime, and a runner per subscribed bot."""

    app: ServiceApp
    broker: NatsBroker
    runtime: ServiceRuntime
    validity_ms: int = DEFAULT_VALIDITY_MS
    runners: dict[UUID, BotRunner] = field(default_factory=dict)
    runs: dict[UUID, UUID] = field(default_factory=dict)
    """The run (`trading.runs`) of each bot this process runs, by bot id."""

    def subscribe(self, config: BotConfig) -> BotRunner:
        """Register `config`'s durable consumer (before the broker starts); once per bot."""
        if config.bot_id in self.runners:
            return self.runners[config.bot_id]
        runner = BotRunner(config, self.runtime, self.validity_ms)

        async def on_kline(kline: Kline) -> None:
            await runner.handle(kline)

        bot_klines(self.broker, **config.durable_values)(on_kline)
        self.runners[config.bot_id] = runner
        return runner

    async def load_bots(self) -> None:
        """Subscribe every running bot of trading.bot_configs (the startup hook)."""
        async with self.runtime.pool.acquire() as proxy:
            configs = await load_running(cast(asyncpg.Connection, proxy))
        for config in configs:
            self.subscribe(config)
        log.info("bot service: %d bot(s) running", len(self.runners))

    async def start_runs(self) -> None:
        """Open a run for each subscribed bot (a startup hook, after the bots are known)."""
        async with self.runtime.pool.acquire() as proxy:
            self.runs = await open_runs(
                cast(asyncpg.Connection, proxy), list(self.runners), self.runtime.clock()
            )

    async def stop_runs(self) -> None:
        """Stop this process's runs (a shutdown hook, while the pool is still open)."""
        if self.runs:
            async with self.runtime.pool.acquire() as proxy:
                await stop_runs(
                    cast(asyncpg.Connection, proxy), list(self.runs.values()), self.runtime.clock()
                )


def build(
    *,
    nats_url: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], int] = wall_clock_ms,
    bots: Sequence[BotConfig] | None = None,
    validity_ms: int = DEFAULT_VALIDITY_MS,
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
    service = BotService(app, broker, runtime, validity_ms)
    if bots is None:
        app.on_startup(service.load_bots)
    else:
        for config in bots:
            service.subscribe(config)
    app.on_startup(service.start_runs)
    app.on_shutdown(service.stop_runs)
    return service

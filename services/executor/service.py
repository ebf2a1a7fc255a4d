"""The executor service: the only one that trades. Run it with `faststream run services.executor:app`
(GORDON_NATS_URL and GORDON_DATABASE_URL set; GORDON_PAPER_SLIPPAGE_BPS optional, default 0).

On startup it connects as gordon_executor and reconciles the paper books with its own events; then it
consumes `intents.executor` (durable executor-default) and `risk.commands` (durable executor-risk), and
every `sweep_interval_s` fills resting limit orders the price has reached. Its writes to the paper
exchange are fenced per bot (services/executor/fencing.py): a handler fenced out of a bot raises, so its
message is NAK'd with the declared backoff; the sweep skips such an order and goes on with the others;
the readiness check `fence` then fails naming the bots until the process is restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import cast

import asyncpg
from faststream.nats import NatsBroker

from consumers.subscribers import executor_default, executor_risk
from registry.subject import Service
from schemas.intents import OrderIntent
from schemas.risk import RiskCommand
from services.executor.commands import Commands
from services.executor.fencing import Fenced, Fences
from services.executor.paper import PaperExchange
from services.executor.placing import Placing
from services.executor.reconcile import Report, reconcile
from services.executor.trader import Trader
from services.runtime import ServiceRuntime, service_app, wall_clock_ms
from services.service_app import ServiceApp
from settings.dsn import with_user

log = logging.getLogger(__name__)

SLIPPAGE_BPS = "GORDON_PAPER_SLIPPAGE_BPS"


@dataclass
class ExecutorService:
    """The executor's app, broker, runtime and handlers; `reconcile` and `sweep` are callable directly."""

    app: ServiceApp
    broker: NatsBroker
    runtime: ServiceRuntime
    trader: Trader
    placing: Placing
    commands: Commands
    sweep_interval_s: float = 1.0
    last_reconcile: Report | None = None
    _sweeper: asyncio.Task[None] | None = field(default=None, init=False)

    async def on_intent(self, intent: OrderIntent) -> None:
        receipt = await self.placing.handle(self.runtime.pool, intent, self.runtime.clock())
        if receipt is not None:
            log.info("intent %s: %s %s", intent.intent_id, receipt.outcome.value, receipt.reason)

    async def on_command(self, command: RiskCommand) -> None:
        await self.commands.handle(self.runtime.pool, command, self.runtime.clock())

    async def reconcile(self) -> Report:
        report = await reconcile(self.runtime.pool, self.runtime.clock)
        self.last_reconcile = report
        if report.clean:
            log.info("reconcile %d: clean (%d orders, %d fills)", report.run_id, report.orders, report.fills)
        else:
            log.error(
                "reconcile %d: %d mismatches: %s", report.run_id, len(report.mismatches), report.mismatches
            )
        return report

    async def sweep(self) -> int:
        """Fill the resting limit orders the price has reached, one transaction each; returns how many."""
        filled = 0
        pool = self.runtime.pool
        async with pool.acquire() as proxy:
            open_ids = await self.trader.open_order_ids(cast(asyncpg.Connection, proxy))
        for order_id in open_ids:
            try:
                async with pool.acquire() as proxy, proxy.transaction():
                    conn = cast(asyncpg.Connection, proxy)
                    filled += await self.trader.fill_resting(conn, order_id, self.runtime.clock())
            except Fenced:
                continue  # a newer executor writes for this bot now: logged and in the `fence` check
        return filled

    async def start_sweeping(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="executor-sweep")

    async def stop_sweeping(self) -> None:
        task, self._sweeper = self._sweeper, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweeping resting limit orders failed; next try in %ss", self.sweep_interval_s)


def build(
    *,
    nats_url: str | None = None,
    database_url: str | None = None,
    clock: Callable[[], int] = wall_clock_ms,
    exchange: PaperExchange | None = None,
    sweep_interval_s: float = 1.0,
) -> ExecutorService:
    """The executor service; URLs default to the environment, the exchange to GORDON_PAPER_SLIPPAGE_BPS."""
    app, broker, runtime = service_app(
        Service.EXECUTOR, nats_url=nats_url, database_url=database_url, clock=clock
    )
    fences = Fences(with_user(runtime.database_url, runtime.role))
    trader = Trader(runtime.outbox, exchange or PaperExchange(slippage_bps=slippage_from_env()), fences)
    service = ExecutorService(
        app, broker, runtime, trader, Placing(trader), Commands(trader), sweep_interval_s
    )
    executor_default(broker)(service.on_intent)
    executor_risk(broker)(service.on_command)
    app.on_startup(service.reconcile)  # after runtime.open, registered first; before the broker consumes
    app.after_startup(service.start_sweeping)
    app.on_shutdown(service.stop_sweeping)
    app.on_shutdown(fences.close)
    runtime.checks["fence"] = fences.check
    return service


def slippage_from_env(env: dict[str, str] | None = None) -> Decimal:
    """GORDON_PAPER_SLIPPAGE_BPS as a non-negative Decimal (unset or empty: 0)."""
    text = (os.environ if env is None else env).get(SLIPPAGE_BPS, "").strip()
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise ValueError(f"{SLIPPAGE_BPS} must be a non-negative number of basis points, got {text!r}")
    return value

"""The risk service against real NATS and PostgreSQL with an injected clock: drawdown and staleness trips,
redelivery, resume and status through the CLI, and `faststream run` with its durables."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from gordon.cli import main
from gordon.commands.risk import resume_latch
from producers.channels import FILLS, KLINES
from producers.outbox import Outbox
from producers.publisher import NatsPublisher
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import Side, bot_token
from schemas.risk import RISK_COMMANDS, RISK_EVENTS, CommandKind
from schemas.trading import Fill
from services.risk import halt
from services.risk.service import RiskService, build
from settings.errors import GordonError
from tests.manual_clock import ManualClock
from tests.services.risk_events import fill as bot_fill
from tests.services.risk_events import kline
from tests.waiting import eventually

BOT = UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60")
START_MS = 1_700_000_000_000
ROOT = Path(__file__).resolve().parents[2]


def fill(version: int, side: Side, qty: str, price: float, fee: str, ts_ms: int) -> Fill:
    return bot_fill(BOT, version, side, qty, price, fee, ts_ms)


async def settled(nats: NatsClient, durable: str) -> bool:
    """The durable has nothing pending and nothing unacked."""
    info = await nats.jetstream().consumer_info(REGISTRY.bus.name, durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def fetch(database: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def outbox_commands(database: str) -> list[CommandKind]:
    rows = await fetch(database, "SELECT payload FROM bus.outbox WHERE subject = 'risk.commands' ORDER BY id")
    codec = REGISTRY.codec(RISK_COMMANDS)
    return [codec.decode(bytes(r["payload"])).command for r in rows]


@pytest.fixture
async def risk(
    database: str, nats_url: str, fresh_bus: Callable[[], Awaitable[None]]
) -> AsyncIterator[tuple[RiskService, ManualClock]]:
    await fresh_bus()
    clock = ManualClock(START_MS)
    service = build(
        nats_url=nats_url, database_url=database, clock=clock, capital=Decimal("10000"), check_interval_s=3600
    )
    await service.app.start()
    try:
        yield service, clock
    finally:
        await service.app.stop()


async def test_fills_losing_over_five_percent_trip_once(
    risk: tuple[RiskService, ManualClock], database: str, nats: NatsClient
) -> None:
    service, _ = risk
    executor = NatsPublisher(REGISTRY, Service.EXECUTOR, nats.jetstream())
    subject = FILLS(bot_id=bot_token(BOT))
    # Buy 1 BTC at 10,000 (fee 10): 9,990. Sell it at 9,500 (fee 10): 9,480, 5.2% below the 10,000 peak.
    buy = fill(1, Side.BUY, "1", 10_000.0, "10", START_MS)
    sell = fill(2, Side.SELL, "1", 9_500.0, "10", START_MS + 1_000)
    await executor.publish(subject, buy)
    await eventually(lambda: settled(nats, "risk-fills"), "the buy")
    assert await fetch(database, "SELECT 1 FROM trading.risk_events") == []
    await executor.publish(subject, sell)

    async def tripped() -> bool:
        return bool(await fetch(database, "SELECT 1 FROM trading.risk_events"))

    await eventually(tripped, "the drawdown trip")
    (event,) = await fetch(database, "SELECT * FROM trading.risk_events")
    assert (event["breaker"], event["action"], event["version"]) == ("drawdown", "trip", 1)
    assert event["value"] == pytest.approx(0.052)
    assert event["threshold"] == 0.05
    published = await fetch(
        database, "SELECT subject, payload FROM bus.outbox WHERE subject LIKE 'risk.events.%'"
    )
    assert [r["subject"] for r in published] == ["risk.events.drawdown"]
    assert REGISTRY.codec(RISK_EVENTS).decode(bytes(published[0]["payload"])).event_id == event["event_id"]
    assert await outbox_commands(database) == [CommandKind.PAUSE, CommandKind.FLATTEN]
    audit = await fetch(database, "SELECT action, actor, reason FROM trading.risk_audit_log")
    assert [(r["action"], r["actor"]) for r in audit] == [("trip", "gordon-risk")]
    assert "drawdown" in audit[0]["reason"]

    # Redelivered fills (a new Msg-Id, so JetStream cannot drop them) and a kline at the same loss.
    await executor.publish(subject, sell.model_copy(update={"event_id": uuid7()}))
    await executor.publish(subject, buy.model_copy(update={"event_id": uuid7()}))
    data = NatsPublisher(REGISTRY, Service.DATA, nats.jetstream())
    await data.publish(KLINES(market="spot", symbol_lc="btcusdt", tf="1m"), kline(9_000.0, START_MS + 60_000))
    await eventually(lambda: settled(nats, "risk-fills"), "the redelivered fills")
    await eventually(lambda: settled(nats, "risk-klines"), "the kline")
    await service.on_fill(sell)
    assert len(await fetch(database, "SELECT 1 FROM trading.risk_events")) == 1
    assert await outbox_commands(database) == [CommandKind.PAUSE, CommandKind.FLATTEN]
    assert service.book.total() == Decimal("9480")


async def test_staleness_trips_when_the_clock_passes_the_window(
    risk: tuple[RiskService, ManualClock], database: str, nats: NatsClient
) -> None:
    service, clock = risk
    clock.now += 100_000
    data = NatsPublisher(REGISTRY, Service.DATA, nats.jetstream())
    await data.publish(KLINES(market="spot", symbol_lc="btcusdt", tf="1m"), kline(10_000.0, START_MS))
    await eventually(lambda: settled(nats, "risk-klines"), "the kline")
    assert service.last_kline_ms == START_MS + 100_000
    clock.now += 180_000  # exactly the window since the kline: not yet
    assert await service.check_connectivity() is None
    clock.now += 1
    event = await service.check_connectivity()
    assert event is not None
    assert (event.breaker.value, event.value, event.threshold) == ("connectivity", 180_001.0, 180_000.0)
    clock.now += 60_000
    assert await service.check_connectivity() is None  # halted for this breaker: no second trip
    rows = await fetch(database, "SELECT breaker, ts_ms FROM trading.risk_events")
    assert [(r["breaker"], r["ts_ms"]) for r in rows] == [("connectivity", START_MS + 280_001)]
    assert await outbox_commands(database) == [CommandKind.PAUSE, CommandKind.FLATTEN]


async def test_the_periodic_check_trips_on_its_own(
    database: str, nats_url: str, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    clock = ManualClock(START_MS)
    service = build(nats_url=nats_url, database_url=database, clock=clock, check_interval_s=0.05)
    await service.app.start()
    try:
        await asyncio.sleep(0.2)
        assert await fetch(database, "SELECT 1 FROM trading.risk_events") == []
        clock.now += 180_001

        async def tripped() -> bool:
            return bool(
                await fetch(database, "SELECT 1 FROM trading.risk_events WHERE breaker = 'connectivity'")
            )

        await eventually(tripped, "the periodic staleness trip")
    finally:
        await service.app.stop()


async def test_resume_clears_the_latch_audits_and_publishes_resume(
    risk: tuple[RiskService, ManualClock], database: str
) -> None:
    service, clock = risk
    clock.now += 180_001
    assert await service.check_connectivity() is not None
    clock.now += 5_000
    event = await resume_latch(database, "alice", "data feed back", clock=clock)
    assert (event.version, event.action.value, event.breaker.value) == (2, "resume", "manual")
    rows = await fetch(database, "SELECT action, breaker, ts_ms FROM trading.risk_events ORDER BY version")
    assert [(r["action"], r["breaker"]) for r in rows] == [("trip", "connectivity"), ("resume", "manual")]
    assert rows[1]["ts_ms"] == clock.now
    audit = await fetch(database, "SELECT action, actor, reason FROM trading.risk_audit_log ORDER BY id")
    assert [tuple(r) for r in audit][1] == ("resume", "alice", "data feed back")
    assert await outbox_commands(database) == [CommandKind.PAUSE, CommandKind.FLATTEN, CommandKind.RESUME]
    subjects = await fetch(
        database, "SELECT subject FROM bus.outbox WHERE subject LIKE 'risk.events.%' ORDER BY id"
    )
    assert [r["subject"] for r in subjects] == ["risk.events.connectivity", "risk.events.manual"]
    # After the resume the breaker may trip again (still no kline).
    clock.now += 1
    again = await service.check_connectivity()
    assert again is not None
    assert again.version == 3


async def test_every_command_risk_issues_is_recorded_with_its_outbox_row(
    risk: tuple[RiskService, ManualClock], database: str
) -> None:
    service, clock = risk
    clock.now += 180_001
    assert await service.check_connectivity() is not None  # a trip: pause and flatten by risk itself
    clock.now += 5_000
    await resume_latch(database, "alice", "data feed back", clock=clock)
    clock.now += 5_000
    conn = await asyncpg.connect(database)
    try:
        await halt.pause(conn, Outbox(REGISTRY, Service.RISK), "carol", "maintenance", ts_ms=clock.now)
    finally:
        await conn.close()
    rows = await fetch(database, "SELECT payload FROM bus.outbox WHERE subject = 'risk.commands' ORDER BY id")
    codec = REGISTRY.codec(RISK_COMMANDS)
    published = [codec.decode(bytes(r["payload"])) for r in rows]
    recorded = await fetch(database, "SELECT * FROM trading.bot_commands ORDER BY id")
    assert [(r["command_id"], r["kind"], r["bot_id"], r["reason"], r["issued_ms"]) for r in recorded] == [
        (c.command_id, c.command.value, c.bot_id, c.reason, c.issued_ms) for c in published
    ]
    assert [(r["kind"], r["actor"]) for r in recorded] == [
        ("pause", "gordon-risk"),
        ("flatten", "gordon-risk"),
        ("resume", "alice"),
        ("pause", "carol"),
    ]


async def test_resume_after_drawdown_restarts_the_peak(
    risk: tuple[RiskService, ManualClock], database: str
) -> None:
    service, clock = risk
    await service.on_fill(fill(1, Side.BUY, "1", 10_000.0, "10", START_MS))
    await service.on_kline(kline(9_400.0, START_MS + 60_000))  # 9,390: 6.1% below 10,000
    assert [e.breaker.value for e in service.trips] == ["drawdown"]
    await resume_latch(database, "bob", "flattened by hand", clock=clock)
    # Equity is still 6% under the old peak: measured from the resume, nothing has been lost.
    await service.on_kline(kline(9_400.0, START_MS + 120_000))
    assert len(await fetch(database, "SELECT 1 FROM trading.risk_events")) == 2
    await service.on_kline(kline(8_800.0, START_MS + 180_000))  # 9,390 -> 8,790: 6.4% below 9,390
    rows = await fetch(database, "SELECT action, breaker FROM trading.risk_events ORDER BY version")
    assert [(r["action"], r["breaker"]) for r in rows][-1] == ("trip", "drawdown")
    assert len(rows) == 3


async def test_resume_when_not_halted_is_refused_in_one_line(database: str) -> None:
    with pytest.raises(GordonError) as refused:
        await resume_latch(database, "alice", "just because")
    assert str(refused.value) == "resume refused: the risk latch is not halted"
    assert await fetch(database, "SELECT 1 FROM trading.risk_audit_log") == []
    assert await fetch(database, "SELECT 1 FROM bus.outbox") == []
    assert await fetch(database, "SELECT 1 FROM trading.bot_commands") == []


def test_cli_resume_refused_exits_1(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["risk", "resume", "--reason", "why not", "--database-url", database])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == "gordon risk: resume refused: the risk latch is not halted\n"


def test_cli_status_prints_latch_and_thresholds(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["risk", "status", "--database-url", database]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "latch global: running (never tripped)"
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["drawdown"][1:4] == ["yes", "0.05", "86400000"]
    assert rows["connectivity"][1:4] == ["yes", "180000", "180000"]
    assert rows["vpin"][1:5] == ["yes", "0.8", "3600000", "yes"]
    assert rows["macro"][1:5] == ["yes", "8", "7200000", "yes"]
    assert rows["correlation"][1:5] == ["yes", "0.9", "86400000", "yes"]
    assert "declared only" not in "\n".join(lines)


async def wait_durables(nats: NatsClient, names: list[str], proc: subprocess.Popen[bytes]) -> None:
    js = nats.jetstream()

    async def bound() -> bool:
        assert proc.poll() is None, "the service exited early"
        try:
            infos = [await js.consumer_info(REGISTRY.bus.name, n) for n in names]
        except NotFoundError:
            return False
        return all(i.push_bound for i in infos)

    await eventually(bound, f"durables {names} bound", timeout_s=60)


def runner_argv(runner: str, module: str) -> list[str]:
    """How a service process is started: by the `faststream run` CLI, or by `FastStream.run` itself."""
    if runner == "faststream-run":
        return [str(Path(sys.executable).with_name("faststream")), "run", f"{module}:app"]
    code = f"import asyncio, {module} as m; asyncio.run(m.app.run())"
    return [sys.executable, "-c", code]


async def run_and_interrupt(
    argv: list[str], durables: list[str], database: str, nats_url: str, nats: NatsClient
) -> None:
    """Start the service process from the environment, wait for its durables, SIGINT it: exit 0."""
    env = {**os.environ, "GORDON_NATS_URL": nats_url, "GORDON_DATABASE_URL": database}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env)  # noqa: ASYNC220
    try:
        await wait_durables(nats, durables, proc)
        proc.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(proc.wait, 30)
        assert code == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["faststream-run", "app-run"])
async def test_the_service_process_binds_the_risk_durables_and_stops_on_sigint(
    runner: str, database: str, nats_url: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    argv = runner_argv(runner, "services.risk")
    await run_and_interrupt(argv, ["risk-fills", "risk-klines", "risk-requests"], database, nats_url, nats)


async def store_fill(database: str, f: Fill) -> None:
    """Write `f` into the executor's trading.fill_events, as the executor commits it before publishing."""
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(
            "INSERT INTO trading.fill_events (bot_id, symbol, version, fill_id, event_id, order_id, market,"
            " side, qty, price, fee, fee_asset, liquidity, ts_ms)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            f.bot_id,
            f.symbol,
            f.version,
            f.fill_id,
            f.event_id,
            f.order_id,
            f.market.value,
            f.side.value,
            f.qty,
            f.price,
            f.fee,
            f.fee_asset,
            f.liquidity.value,
            f.ts_ms,
        )
    finally:
        await conn.close()


async def test_a_restart_folds_stored_fills_and_a_gap_is_filled_from_them(
    database: str, nats_url: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    await store_fill(database, fill(1, Side.BUY, "1", 10_000.0, "10", START_MS - 1_000))
    clock = ManualClock(START_MS)
    service = build(nats_url=nats_url, database_url=database, clock=clock, check_interval_s=3600)
    await service.app.start()
    try:
        assert service.book.total() == Decimal("9990")
        assert service.peaks.peak() == Decimal("10000")
        # Fill 2 reached the table but not this consumer; fill 3 arrives on the bus after the gap.
        await store_fill(database, fill(2, Side.BUY, "1", 10_000.0, "10", START_MS + 1_000))
        third = fill(3, Side.SELL, "1", 10_100.0, "10", START_MS + 2_000)
        executor = NatsPublisher(REGISTRY, Service.EXECUTOR, nats.jetstream())
        await executor.publish(FILLS(bot_id=bot_token(BOT)), third)
        await eventually(lambda: settled(nats, "risk-fills"), "the fill after the gap")
        assert service.book.version_of(BOT, "BTCUSDT") == 3
        # 2 BTC at 10,000, 1 sold at 10,100 (+100), 30 fees, 1 left marked at 10,100 (+100): 10,170.
        assert service.book.total() == Decimal("10170")
        assert await fetch(database, "SELECT 1 FROM trading.risk_events") == []
    finally:
        await service.app.stop()

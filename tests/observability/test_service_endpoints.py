"""Every service's `/healthz` and `/metrics` on its own port, on a running platform (real NATS, Postgres,
the drain, the projection runners and the five services at demo speed): each metric family the README
lists moves because messages were handled, a broken durable turns readiness into a 503 naming it, and one
kline, the intent it caused, the order and the fill share one trace id on the bus."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from rich.console import Console

from gordon.view import Sampler, render
from producers.tracing import trace_id_of
from registry import headers as h
from schemas import REGISTRY
from tests.observability.running import Observed, matching, observed_platform, value
from tests.services.platform_harness import count
from tests.waiting import eventually

pytestmark = pytest.mark.slow

KLINES = "market.klines.binance.{market}.{symbol_lc}.{tf}"
PLACED = "SELECT count(*) FROM trading.intent_receipts WHERE outcome = 'placed'"
SERVICES = ("data", "bot", "executor", "risk", "manager")


@pytest.fixture
async def js(nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]) -> JetStreamContext:
    await fresh_bus()
    return nats.jetstream()


async def test_each_service_serves_readiness_and_metrics_that_move_with_real_work(
    monkeypatch: pytest.MonkeyPatch, database: str, nats_url: str, js: JetStreamContext
) -> None:
    owner = await asyncpg.connect(database)
    try:
        async with observed_platform(monkeypatch, nats_url, database) as seen:

            async def traded() -> bool:
                return await count(owner, PLACED) >= 4

            await eventually(traded, "orders placed by the bots", 90)
            for name in SERVICES:
                await eventually(lambda n=name: _ready(seen, n), f"{name} ready", 30)
            await _readiness_names_its_checks(seen)
            await _families_moved(seen)
            await _a_dead_letter_is_counted_where_it_happened(seen, js)
            await _the_view_shows_each_services_readiness(seen, database, js, "ready")
            await _a_deleted_durable_is_a_503_naming_it(seen, js)
            await _the_view_shows_each_services_readiness(
                seen, database, js, "NOT READY: durable:risk-klines"
            )
        await _one_trace_from_kline_to_fill(js)
    finally:
        await owner.close()


async def _ready(seen: Observed, name: str) -> bool:
    status, _ = await seen.health(name)
    return status == 200


async def _readiness_names_its_checks(seen: Observed) -> None:
    _, data = await seen.health("data")
    sources = {"source:binance-spot-demo", "source:binance-perp-demo"}
    assert {"postgres", "nats", *sources} <= set(data["checks"])  # type: ignore[arg-type]
    _, risk = await seen.health("risk")
    checks = risk["checks"]
    assert isinstance(checks, dict)
    assert {"postgres", "nats", "durable:risk-klines", "durable:risk-fills", "lastEvent"} <= set(checks)
    assert checks["postgres"]["detail"] == "connected as gordon_risk"
    _, bot = await seen.health("bot")
    assert sum(name.startswith("durable:bot-") for name in bot["checks"]) == 2  # type: ignore[union-attr]
    status, manager = await seen.health("manager")
    assert status == 200
    assert set(manager["services"]) == {"data", "bot", "executor", "risk"}  # type: ignore[arg-type]
    assert all(r["ok"] for r in manager["services"].values())  # type: ignore[union-attr]


async def _families_moved(seen: Observed) -> None:
    risk = await seen.metrics("risk")
    assert (value(risk, "gordon_events_consumed_total", subject=KLINES, consumer="risk-klines") or 0) > 0
    assert value(risk, "gordon_service_ready") == 1
    handled = value(
        risk,
        "faststream_received_processed_messages_duration_seconds_count",
        app_name="risk",
        broker="nats",
        handler=KLINES,
    )
    assert handled, "FastStream's handler duration histogram, labelled by template"
    assert not matching(risk, "gordon_events_consumed_total", consumer="executor-default")  # its own only
    executor = await seen.metrics("executor")
    assert (
        value(
            executor, "gordon_events_consumed_total", subject="intents.executor", consumer="executor-default"
        )
        or 0
    ) > 0

    manager = await seen.metrics("manager")
    assert value(manager, "gordon_drain_leader_present") == 1
    assert value(manager, "gordon_outbox_backlog") is not None
    assert value(manager, "gordon_outbox_oldest_age_seconds") is not None
    assert value(manager, "gordon_consumer_lag_seconds", consumer="risk-klines") is not None
    assert value(manager, "gordon_consumer_pending", consumer="executor-default") is not None
    assert len(matching(manager, "gordon_consumer_lag_seconds")) >= 8  # every durable, bots' included
    for name in ("data", "bot", "executor", "risk"):
        assert value(manager, "gordon_platform_service_ready", service=name) == 1
    assert (value(manager, "gordon_live_messages_total", kind="fill") or 0) >= 0

    workers = await seen.metrics("workers")
    assert (value(workers, "gordon_drain_batches_total") or 0) > 0
    assert value(workers, "gordon_drain_leader") == 1
    assert (value(workers, "gordon_events_published_total", subject=KLINES) or 0) > 0
    assert value(workers, "gordon_projection_lag_seconds", projection="orders") is not None
    assert (value(workers, "gordon_projection_applied_total", projection="orders") or 0) > 0


async def _a_dead_letter_is_counted_where_it_happened(seen: Observed, js: JetStreamContext) -> None:
    # Published with an expected stream: its Nats-Expected-Stream header must not stop the letter.
    await js.publish("intents.executor", b"{not json", stream=REGISTRY.bus.name, headers={h.MSG_ID: "junk-1"})

    async def counted() -> float:
        samples = await seen.metrics("executor")
        labels = {"subject": "intents.executor", "consumer": "executor-default"}
        return value(samples, "gordon_dead_letters_total", **labels) or 0.0

    await eventually(counted, "the executor to count its dead letter", 20)


async def _a_deleted_durable_is_a_503_naming_it(seen: Observed, js: JetStreamContext) -> None:
    await js.delete_consumer(REGISTRY.bus.name, "risk-klines")
    status, body = await seen.health("risk")
    assert status == 503
    assert body["failed"] == ["durable:risk-klines"]
    assert "does not exist" in body["checks"]["durable:risk-klines"]["detail"] or "NotFound" in str(  # type: ignore[index]
        body["checks"]
    )
    samples = await seen.metrics("risk")
    assert value(samples, "gordon_service_ready") == 0
    assert value(samples, "gordon_readiness_check", check="durable:risk-klines") == 0


async def _the_view_shows_each_services_readiness(
    seen: Observed, database: str, js: JetStreamContext, risk_shows: str
) -> None:
    services = {n: u for n, u in seen.urls.items() if n != "workers"}
    conn = await asyncpg.connect(database)
    try:
        snap = await Sampler(js._nc, conn, services).sample()
    finally:
        await conn.close()
    assert {name for name, _, _ in snap.readiness} == set(SERVICES)
    console = Console(record=True, width=100)
    console.print(render(snap))
    rows = {
        line.split()[1]: line
        for line in console.export_text().splitlines()
        if line.split()[1:2] and line.split()[1] in SERVICES
    }
    assert risk_shows in rows["risk"], rows
    assert "ready" in rows["executor"], rows
    assert "NOT" not in rows["executor"], rows


async def _one_trace_from_kline_to_fill(js: JetStreamContext) -> None:
    """Read gordon-bus as it was published and follow each fill back to its order, intent and kline."""
    last = (await js.stream_info(REGISTRY.bus.name)).state.last_seq
    traces: dict[str, dict[str, str]] = {"kline": {}, "intent": {}, "order": {}, "fill": {}}
    kline_traces: set[str] = set()
    for seq in range(1, last + 1):
        msg = await js.get_msg(REGISTRY.bus.name, seq)
        trace = trace_id_of((msg.headers or {}).get(h.TRACE_ID))
        subject = msg.subject or ""
        if trace is None or not msg.data or not msg.data.startswith(b"{"):
            continue
        body = json.loads(msg.data)
        if subject.startswith("market.klines."):
            kline_traces.add(trace)
        elif subject == "intents.executor":
            traces["intent"][body["intent_id"]] = trace
        elif subject.startswith("trading.orders."):
            traces["order"][body["order_id"]] = trace
            traces["order"]["intent:" + body["order_id"]] = body["intent_id"]
        elif subject.startswith("trading.fills."):
            traces["fill"][body["fill_id"]] = trace + " " + body["order_id"]
    assert traces["fill"], "fills on the bus"
    for joined in traces["fill"].values():
        trace, order_id = joined.split()
        intent_id = traces["order"]["intent:" + order_id]
        assert traces["order"][order_id] == trace == traces["intent"][intent_id]
        assert trace in kline_traces, "the intent's trace began at the kline the bot handled"

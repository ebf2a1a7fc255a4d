"""Metrics move with real work: the drain counts what JetStream stored, the collector reads the backlog."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from nats.aio.client import Client as NatsClient
from prometheus_client import REGISTRY as PROMETHEUS
from prometheus_client import CollectorRegistry

from consumers import metrics as consumer_metrics
from producers import metrics
from producers.channels import ORDERS
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.common import bot_token
from tests.outbox.conftest import count_unpublished, order_event, running, wait_until, write

ORDERS_TEMPLATE = ORDERS.subject.template_text


def sample(name: str, **labels: str) -> float:
    return PROMETHEUS.get_sample_value(name, labels) or 0.0


def test_a_concrete_subject_is_labelled_by_its_template() -> None:
    assert metrics.template_of(ORDERS(bot_id=bot_token(uuid7())).concrete) == ORDERS_TEMPLATE
    assert metrics.template_of("market.klines.binance.spot.btcusdt.1m") == (
        "market.klines.binance.{market}.{symbol_lc}.{tf}"
    )
    assert metrics.template_of("nowhere.at.all") == metrics.UNKNOWN


async def test_drain_publishes_move_the_published_counter(
    database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    before = sample("gordon_events_published_total", subject=ORDERS_TEMPLATE)
    conn = await asyncpg.connect(database)
    try:
        order = uuid7()
        for version in range(1, 8):
            await write(conn, order_event(order, version))
    finally:
        await conn.close()

    async def none_left() -> bool:
        return await count_unpublished(database) == 0

    async with running(database, nats):
        await wait_until(none_left, "the drain to publish every row")
    assert sample("gordon_events_published_total", subject=ORDERS_TEMPLATE) - before == 7


async def test_outbox_collector_reports_backlog_and_oldest_age(database: str) -> None:
    registry = CollectorRegistry()
    registry.register(metrics.OutboxCollector(database))
    assert registry.get_sample_value("gordon_outbox_backlog") == 0
    assert registry.get_sample_value("gordon_outbox_oldest_age_seconds") == 0
    conn = await asyncpg.connect(database)
    try:
        await write(conn, order_event(uuid7(), 1))
        await write(conn, order_event(uuid7(), 1))
        await conn.execute("UPDATE bus.outbox SET created_at_ms = created_at_ms - 60000 WHERE id = 1")
    finally:
        await conn.close()
    assert registry.get_sample_value("gordon_outbox_backlog") == 2
    age = registry.get_sample_value("gordon_outbox_oldest_age_seconds") or 0.0
    assert 60 <= age < 120
    assert registry.get_sample_value("gordon_outbox_quarantined_rows") == 0


def test_outbox_collector_yields_nothing_when_the_database_is_unreachable() -> None:
    registry = CollectorRegistry()
    registry.register(metrics.OutboxCollector("postgresql://nobody@127.0.0.1:1/none", timeout_s=1))
    assert registry.get_sample_value("gordon_outbox_backlog") is None


async def test_consumer_pending_comes_from_consumer_info(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    subject = ORDERS(bot_id=bot_token(uuid7())).concrete
    for _ in range(3):
        await js.publish(subject, b"{}", stream=REGISTRY.bus.name)
    await js.add_consumer(REGISTRY.bus.name, durable_name="metrics-test", filter_subject="trading.>")
    assert await consumer_metrics.observe_pending(js, REGISTRY.bus.name, "metrics-test") == 3
    assert sample("gordon_consumer_pending", stream=REGISTRY.bus.name, consumer="metrics-test") == 3
    assert sample("gordon_consumer_ack_pending", stream=REGISTRY.bus.name, consumer="metrics-test") == 0


def test_consume_side_counters_are_per_template_and_consumer() -> None:
    subject = ORDERS(bot_id=bot_token(uuid7())).concrete
    labels = {"subject": ORDERS_TEMPLATE, "consumer": "metrics-unit"}
    before = [sample(n, **labels) for n in ("gordon_events_consumed_total", "gordon_consume_errors_total")]
    consumer_metrics.consumed(subject, "metrics-unit")
    consumer_metrics.consumed(subject, "metrics-unit")
    consumer_metrics.consume_failed(subject, "metrics-unit")
    consumer_metrics.dead_lettered(subject, "metrics-unit")
    assert sample("gordon_events_consumed_total", **labels) - before[0] == 2
    assert sample("gordon_consume_errors_total", **labels) - before[1] == 1
    assert sample("gordon_dead_letters_total", **labels) >= 1

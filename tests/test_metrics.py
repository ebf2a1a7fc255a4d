"""Metrics move with real work: the drain counts what JetStream stored, the manager reads the backlog."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from prometheus_client import REGISTRY as PROMETHEUS
from prometheus_client import CollectorRegistry

from producers import metrics
from producers.channels import ORDERS
from registry.ids import uuid7
from schemas.common import bot_token
from services.manager.api.platform_metrics import PlatformGauges
from settings import roles
from settings.dsn import with_user
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


async def test_the_manager_reads_the_backlog_and_its_oldest_age_without_reading_rows(database: str) -> None:
    registry = CollectorRegistry()
    gauges = PlatformGauges(registry)
    manager = await asyncpg.create_pool(with_user(database, roles.MANAGER), min_size=1, max_size=1)
    conn = await asyncpg.connect(database)
    try:
        await gauges._database(manager)
        assert registry.get_sample_value("gordon_outbox_backlog") == 0
        assert registry.get_sample_value("gordon_outbox_oldest_age_seconds") == 0
        await write(conn, order_event(uuid7(), 1))
        await write(conn, order_event(uuid7(), 1))
        await conn.execute("UPDATE bus.outbox SET created_at_ms = created_at_ms - 60000 WHERE id = 1")
        await gauges._database(manager)
        assert registry.get_sample_value("gordon_outbox_backlog") == 2
        age = registry.get_sample_value("gordon_outbox_oldest_age_seconds") or 0.0
        assert 60 <= age < 120
        assert registry.get_sample_value("gordon_outbox_quarantined_rows") == 0
        assert registry.get_sample_value("gordon_drain_leader_present") == 0  # no drain runs here
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await manager.fetch("SELECT payload FROM bus.outbox")
    finally:
        await conn.close()
        await manager.close()

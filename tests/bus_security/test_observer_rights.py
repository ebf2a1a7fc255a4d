"""Under the generated authorization, the manager may read every durable's lag (listing the consumers of
gordon-bus and reading the oldest unacked message), while a service may read only its own durables."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from consumers.subscription import consumer_config
from registry import headers as h
from schemas import REGISTRY
from schemas.market import KLINES
from services.manager.api.platform_metrics import PlatformGauges
from tests.bus_security.nats_harness import AuthServer, Login

pytestmark = pytest.mark.timeout(60)

KLINE = "market.klines.binance.spot.btcusdt.1m"


async def test_the_manager_reads_every_durables_lag_and_a_service_only_its_own(
    auth_server: AuthServer, admin: Login
) -> None:
    js = admin.client.jetstream()
    spec = KLINES.consumer(KLINES.consumers[1].service)  # risk-klines
    await js.add_consumer(REGISTRY.bus.name, consumer_config(KLINES, spec, {}))
    await js.publish(KLINE, b"{}", headers={h.MSG_ID: "lag-1"})
    await asyncio.sleep(1.1)

    manager = await auth_server.login("manager")
    try:
        registry = CollectorRegistry()
        await PlatformGauges(registry)._consumers(manager.client.jetstream())
        assert registry.get_sample_value("gordon_consumer_pending", {"consumer": "risk-klines"}) == 1
        lag = registry.get_sample_value("gordon_consumer_lag_seconds", {"consumer": "risk-klines"}) or 0
        assert lag >= 1.0
        assert not manager.errors
    finally:
        await manager.client.close()

    risk = await auth_server.login("risk")
    try:
        info = await risk.client.jetstream().consumer_info(REGISTRY.bus.name, "risk-klines")  # readiness
        assert info.num_pending == 1
        with pytest.raises(Exception):  # noqa: B017,PT011 - a denied request times out or is refused
            await risk.client.jetstream().consumers_info(REGISTRY.bus.name)
        assert await risk.violation("CONSUMER.LIST")
    finally:
        await risk.client.close()

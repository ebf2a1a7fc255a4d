"""The platform as the manager sees it, read at each `/metrics` scrape into its registry: every durable's
lag, the outbox backlog, whether a drain leads, the risk latch, and (from its /healthz) each other
service's readiness.

These are observed from outside the parts they describe, so they stay true when a part is down: a
stopped consumer's lag keeps growing here while its own `/metrics` is gone, and a drain that died
shows as no leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

from asyncpg import Pool
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError
from prometheus_client import CollectorRegistry, Gauge

from consumers.metrics import registry_of
from producers.drain.config import LOCK_KEY
from producers.metrics import BACKLOG
from schemas import REGISTRY
from services.manager.api.health import LEADER

LATCH = "SELECT halted, breaker FROM trading.risk_state WHERE latch_id = 'global'"
REFRESH_TIMEOUT_S = 3.0


@dataclass
class PlatformGauges:
    """The gauges, in the manager's registry; `refresh` sets them all from the servers."""

    registry: CollectorRegistry

    def __post_init__(self) -> None:
        on = self.registry
        self.pending = Gauge(
            "gordon_consumer_pending",
            "Messages of the stream not yet delivered to the durable.",
            ["consumer"],
            registry=on,
        )
        self.ack_pending = Gauge(
            "gordon_consumer_ack_pending",
            "Messages delivered to the durable and not yet acknowledged.",
            ["consumer"],
            registry=on,
        )
        self.lag = Gauge(
            "gordon_consumer_lag_seconds",
            "Age of the oldest message the durable has not acknowledged (0 when it is caught up).",
            ["consumer"],
            registry=on,
        )
        self.backlog = Gauge(
            "gordon_outbox_backlog", "Outbox rows committed and not yet published.", registry=on
        )
        self.oldest = Gauge(
            "gordon_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none).",
            registry=on,
        )
        self.quarantined = Gauge(
            "gordon_outbox_quarantined_rows", "Outbox rows quarantined, in total.", registry=on
        )
        self.leader = Gauge(
            "gordon_drain_leader_present",
            "1 when some session holds the drain's leader lock in the database.",
            registry=on,
        )
        self.halted = Gauge(
            "gordon_risk_halted",
            "1 while the risk latch is halted, labelled with the breaker that tripped it.",
            ["breaker"],
            registry=on,
        )
        self.peer_ready = Gauge(
            "gordon_platform_service_ready",
            "1 when the service's /healthz answers 200, as the manager sees it.",
            ["service"],
            registry=on,
        )

    async def refresh(self, pool: Pool, js: JetStreamContext) -> None:
        """Read the servers at once; a part that cannot be read in time keeps its last values."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REFRESH_TIMEOUT_S):
                await asyncio.gather(
                    self._consumers(js), self._database(pool), self._latch(pool), return_exceptions=True
                )

    async def _consumers(self, js: JetStreamContext) -> None:
        stream = REGISTRY.bus.name
        infos = await js.consumers_info(stream)
        lags = await asyncio.gather(*(_lag_s(js, stream, info) for info in infos))
        for gauge in (self.pending, self.ack_pending, self.lag):
            gauge.clear()
        for info, lag in zip(infos, lags, strict=True):
            self.pending.labels(info.name).set(info.num_pending or 0)
            self.ack_pending.labels(info.name).set(info.num_ack_pending or 0)
            self.lag.labels(info.name).set(lag)

    async def _database(self, pool: Pool) -> None:
        pending, oldest_ms, quarantined, now_ms = await pool.fetchrow(BACKLOG) or (0, None, 0, 0)
        self.backlog.set(pending)
        self.oldest.set(0.0 if oldest_ms is None else max(now_ms - oldest_ms, 0) / 1000)
        self.quarantined.set(quarantined)
        self.leader.set(0 if await pool.fetchval(LEADER, LOCK_KEY) is None else 1)

    async def _latch(self, pool: Pool) -> None:
        latch = await pool.fetchrow(LATCH)  # the latch projection's view: missing until it is live
        self.halted.clear()
        if latch is not None and latch["halted"]:
            self.halted.labels(latch["breaker"] or "unknown").set(1)

    def record_peers(self, ready: Mapping[str, bool]) -> None:
        """Each other service's readiness, as the manager's /healthz found it."""
        self.peer_ready.clear()
        for name, ok in ready.items():
            self.peer_ready.labels(name).set(1 if ok else 0)


async def _lag_s(js: JetStreamContext, stream: str, info: ConsumerInfo) -> float:
    """Seconds since the oldest message the durable has not acked was stored (0 when caught up)."""
    if not (info.num_pending or info.num_ack_pending):
        return 0.0
    floor = info.ack_floor.stream_seq if info.ack_floor and info.ack_floor.stream_seq else 0
    subject = info.config.filter_subject or None
    with contextlib.suppress(NotFoundError):
        msg = await js.get_msg(stream, seq=floor + 1, subject=subject, next=True)
        if msg.time is not None:
            return max(time.time() - msg.time.timestamp(), 0.0)
    return 0.0


GAUGES = PlatformGauges(registry_of("manager"))
"""The process's platform gauges (one set per registry: a second API in a test process reuses them)."""

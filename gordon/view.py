"""The live terminal view of `gordon up`: each service's readiness, events/s per subject, outbox backlog,
consumer and projection lag, positions and the risk latch, refreshed every second (rich)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import asyncpg
import httpx
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from prometheus_client import REGISTRY as prometheus
from rich.console import Group
from rich.live import Live
from rich.table import Table

from gordon.runtime.servers import Endpoints
from producers.drain.runner import connect_nats
from producers.metrics import BACKLOG, template_of
from projections.catalog import PROJECTIONS
from projections.generations import schema_of
from schemas import REGISTRY
from settings import nats_login

HEALTH_TIMEOUT_S = 0.8

POSITIONS = (
    "SELECT bot_id, symbol, qty, avg_entry_price, realized_pnl, fees FROM trading.positions ORDER BY 1, 2"
)
LATCH = "SELECT halted, breaker, reason, version FROM trading.risk_state WHERE latch_id = 'global'"


@dataclass
class Snapshot:
    """One refresh of everything the view shows."""

    rates: dict[str, float] = field(default_factory=dict)
    backlog: int = 0
    oldest_age_ms: int | None = None
    consumers: list[tuple[str, int, int]] = field(default_factory=list)
    projections: list[tuple[str, int, str]] = field(default_factory=list)
    """(name, last applied sequence, halt reason) of each projection."""
    positions: list[asyncpg.Record] = field(default_factory=list)
    latch: asyncpg.Record | None = None
    readiness: list[tuple[str, bool, str]] = field(default_factory=list)
    """(service, ready, the failed checks or why it did not answer) of each service with an HTTP URL."""


class Sampler:
    """Counts bus messages per subject template and reads the rest from the servers."""

    def __init__(
        self, nats: NatsClient, conn: asyncpg.Connection, services: Mapping[str, str] | None = None
    ) -> None:
        self.nats = nats
        self.conn = conn
        self.services = dict(services or {})
        """Each service's base URL by name, whose /healthz is read at each sample."""
        self.counts: Counter[str] = Counter()
        self.since = time.monotonic()

    async def start(self) -> None:
        for subject in REGISTRY.bus.subjects:
            await self.nats.subscribe(subject, cb=self._count)

    async def _count(self, msg: Msg) -> None:
        self.counts[template_of(msg.subject)] += 1

    async def sample(self) -> Snapshot:
        now = time.monotonic()
        elapsed, self.since = max(now - self.since, 1e-6), now
        counts, self.counts = self.counts, Counter()
        snap = Snapshot(rates={k: v / elapsed for k, v in sorted(counts.items())})
        count, oldest, _, now_ms = await self.conn.fetchrow(BACKLOG) or (0, None, 0, 0)
        snap.backlog, snap.oldest_age_ms = int(count), (int(now_ms) - int(oldest)) if oldest else None
        with contextlib.suppress(Exception):
            infos = await self.nats.jetstream().consumers_info(REGISTRY.bus.name)
            snap.consumers = sorted(
                (i.name, i.num_pending or 0, i.num_ack_pending or 0) for i in infos if i.config.durable_name
            )
        for name, projection in PROJECTIONS.items():
            generation = await self.conn.fetchval(
                "SELECT generation FROM trading.projections WHERE name = $1", name
            )
            if generation is None:
                continue
            row = await self.conn.fetchrow(
                f"SELECT last_seq, halted_reason FROM {schema_of(projection, generation)}.tracking"
            )
            if row is not None:
                snap.projections.append((name, row[0], row[1] or ""))
        snap.positions = list(await self.conn.fetch(POSITIONS))
        snap.latch = await self.conn.fetchrow(LATCH)
        snap.readiness = await readiness(self.services)
        return snap


async def readiness(services: Mapping[str, str]) -> list[tuple[str, bool, str]]:
    """Each service's /healthz: ready, or the checks it names as failed (or why it did not answer)."""
    async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_S) as client:
        names = list(services)
        answers = await asyncio.gather(
            *(client.get(f"{services[n]}/healthz") for n in names), return_exceptions=True
        )
    found = []
    for name, answer in zip(names, answers, strict=True):
        if isinstance(answer, BaseException):
            found.append((name, False, f"no answer ({type(answer).__name__})"))
        elif answer.status_code == 200:
            found.append((name, True, ""))
        else:
            failed = (
                answer.json().get("failed", [])
                if answer.headers.get("content-type", "").startswith("application/json")
                else []
            )
            found.append((name, False, ", ".join(failed) or f"HTTP {answer.status_code}"))
    return found


def render(snap: Snapshot) -> Group:
    """The tables of one snapshot."""
    ready = Table(title="services", expand=True)
    ready.add_column("service")
    ready.add_column("readiness")
    for name, ok, why in snap.readiness:
        ready.add_row(name, "[green]ready[/]" if ok else f"[bold red]NOT READY[/]: {why}")
    rates = Table(title="events/s by subject", expand=True)
    rates.add_column("subject")
    rates.add_column("events/s", justify="right")
    for subject, rate in snap.rates.items():
        rates.add_row(subject, f"{rate:,.1f}")
    bus = Table(title="outbox and consumers", expand=True)
    bus.add_column("what")
    bus.add_column("pending", justify="right")
    bus.add_column("unacked / note", justify="right")
    age = f"oldest {snap.oldest_age_ms} ms" if snap.oldest_age_ms is not None else ""
    bus.add_row("outbox backlog", str(snap.backlog), age)
    for name, pending, unacked in snap.consumers:
        bus.add_row(f"durable {name}", str(pending), str(unacked))
    for name, seq, halted in snap.projections:
        lag = prometheus.get_sample_value("gordon_projection_lag", {"projection": name})
        note = f"HALTED: {halted}" if halted else f"at seq {seq}"
        bus.add_row(f"projection {name}", "-" if lag is None else f"{lag:.0f}", note)
    positions = Table(title="positions", expand=True)
    for column in ("bot", "symbol", "qty", "avg entry", "realized PnL", "fees"):
        positions.add_column(column, justify="left" if column in ("bot", "symbol") else "right")
    for p in snap.positions:
        positions.add_row(str(p[0])[:8], p[1], *(f"{v:,.4f}" for v in p[2:]))
    latch = snap.latch
    state = (
        "no latch events yet"
        if latch is None
        else (
            f"[bold red]HALTED[/] by {latch[1]}: {latch[2]} (v{latch[3]})"
            if latch[0]
            else f"running (v{latch[3]})"
        )
    )
    parts = (ready,) if snap.readiness else ()
    return Group(*parts, rates, bus, positions, f"risk latch: {state}")


async def live_view(
    endpoints: Endpoints,
    stop: asyncio.Event | None = None,
    every_s: float = 1.0,
    services: Mapping[str, str] | None = None,
) -> None:
    """Refresh the view until cancelled (or `stop`); `services`: each service's base URL by name."""
    nats = await connect_nats(endpoints.nats_url, "gordon-view", nats_login.ADMIN)
    conn = await asyncpg.connect(endpoints.database_url)
    sampler = Sampler(nats, conn, services)
    await sampler.start()
    stop = stop or asyncio.Event()
    try:
        with Live(render(Snapshot()), refresh_per_second=4, screen=False) as live:
            while not stop.is_set():
                waiter = asyncio.ensure_future(stop.wait())
                await asyncio.wait({waiter}, timeout=every_s)
                waiter.cancel()
                live.update(render(await sampler.sample()))
    finally:
        await conn.close()
        await nats.close()

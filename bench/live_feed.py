"""The /ws live feed end to end: publish onto gordon-bus → manager durables → hub (sequenced) → granian
→ WebSocket clients.

A publisher sends fills, order updates and breaker events in turn at a fixed rate onto gordon-bus (as the
executor and risk do); the manager service's three durables feed its hub, served by embedded granian to
CLIENTS websockets clients in this process. Delay = a client's receive time - the publisher's time just
before the publish (one clock). Every client must get every message once, in stream order (checked).
Also reported: the direct gets the sequencer spent per released message. The closing ratio is
50 ms ÷ p99 at 200 events/s: ≥ 1 meets the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass, field

import nats
from fastapi import FastAPI
from granian.constants import Interfaces
from granian.server.embed import Server
from nats.aio.client import Client as NatsClient
from websockets.asyncio.client import ClientConnection, connect

from bench.latency import pct
from bench.report import closing_line, record
from bench.samples import samples
from bench.servers import BenchServers, bench_servers
from producers.channels import FILLS, ORDERS, RISK_EVENTS
from producers.publisher import NatsPublisher
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import bot_token
from schemas.risk import BreakerEvent
from schemas.trading import Fill, OrderEvent
from services.http_server import free_port
from services.manager.api.live import live_router
from services.manager.service import build

GOAL_P99_MS = 50.0
CLIENTS = 10


@dataclass
class Run:
    rate: int
    seconds: float
    sent_ns: dict[int, int] = field(default_factory=dict)
    delays_ms: list[float] = field(default_factory=list)
    out_of_order: int = 0
    missing: int = 0
    gets: int = 0
    target: int | None = None
    """How many messages each client must get (set once publishing is over)."""


def fill(n: int) -> Fill:
    """The n-th fill of the run: the sample fill with its own id and version."""
    sample = samples()[Fill]
    assert isinstance(sample, Fill)
    return sample.model_copy(update={"fill_id": uuid7(), "version": n})


def order(n: int) -> OrderEvent:
    sample = samples()[OrderEvent]
    assert isinstance(sample, OrderEvent)
    return sample.model_copy(update={"order_id": uuid7(), "version": n})


def breaker(n: int) -> BreakerEvent:
    sample = samples()[BreakerEvent]
    assert isinstance(sample, BreakerEvent)
    return sample.model_copy(update={"version": n, "message": f"trip {n}"})


async def publish_at(nc: NatsClient, rate: int, seconds: float, run: Run) -> None:
    js = nc.jetstream()
    executor = NatsPublisher(REGISTRY, Service.EXECUTOR, js)
    risk = NatsPublisher(REGISTRY, Service.RISK, js)
    loop = asyncio.get_running_loop()
    start = loop.time()
    n = 0
    while (due := start + n / rate) < start + seconds:
        if (delay := due - loop.time()) > 0:
            await asyncio.sleep(delay)
        n += 1
        sent = time.perf_counter_ns()
        if n % 3 == 1:
            event = fill(n)
            ack = await executor.publish(FILLS(bot_id=bot_token(event.bot_id)), event)
        elif n % 3 == 2:
            update = order(n)
            ack = await executor.publish(ORDERS(bot_id=bot_token(update.bot_id)), update)
        else:
            trip = breaker(n)
            ack = await risk.publish(RISK_EVENTS(breaker=trip.breaker.value), trip)
        run.sent_ns[ack.seq] = sent


async def receive(ws: ClientConnection, run: Run, got: list[int], complete: asyncio.Event) -> None:
    async for text in ws:
        now = time.perf_counter_ns()
        seq = json.loads(text)["seq"]
        if got and seq <= got[-1]:
            run.out_of_order += 1
        got.append(seq)
        if seq in run.sent_ns:
            run.delays_ms.append((now - run.sent_ns[seq]) / 1e6)
        if run.target is not None and len(got) >= run.target:
            complete.set()


async def measure(servers: BenchServers, rate: int, seconds: float, clients_n: int) -> Run:
    run = Run(rate, seconds)
    service = build(nats_url=servers.nats_url, database_url=servers.dsn)
    await service.app.start()
    app = FastAPI()
    app.include_router(live_router(service.live))
    port = free_port()
    server = Server(app, address="127.0.0.1", port=port, interface=Interfaces.ASGI, log_enabled=False)
    serving = asyncio.create_task(server.serve())
    nc = await nats.connect(servers.nats_url)
    try:
        await asyncio.sleep(1.0)
        clients = [await connect(f"ws://127.0.0.1:{port}/ws", max_size=None) for _ in range(clients_n)]
        got: list[list[int]] = [[] for _ in clients]
        complete = [asyncio.Event() for _ in clients]
        readers = [
            asyncio.create_task(receive(ws, run, g, c))
            for ws, g, c in zip(clients, got, complete, strict=True)
        ]
        gets_before = service.live.reader.gets
        await publish_at(nc, rate, seconds, run)
        run.target = len(run.sent_ns)
        for g, c in zip(got, complete, strict=True):
            if len(g) >= run.target:
                c.set()
        await asyncio.wait([asyncio.create_task(c.wait()) for c in complete], timeout=30)
        run.gets = service.live.reader.gets - gets_before
        run.missing = sum(len(set(run.sent_ns) - set(g)) for g in got)
        for task in readers:
            task.cancel()
        for ws in clients:
            await ws.close()
    finally:
        await nc.close()
        server.stop()  # type: ignore[no-untyped-call]
        await asyncio.wait({serving}, timeout=10)
        await service.app.stop()
    return run


async def main_async(servers: BenchServers, rates: list[int], seconds: float, clients: int) -> list[Run]:
    return [await measure(servers, rate, seconds, clients) for rate in rates]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.live_feed")
    parser.add_argument("--quick", action="store_true", help="5 s per rate instead of 20 s")
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"clients (default {CLIENTS})")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 20.0
    load_before = os.getloadavg()[0]
    with bench_servers(fsync=True) as servers:
        runs = asyncio.run(main_async(servers, [200, 1000], seconds, args.clients))
    load_after = os.getloadavg()[0]
    rows = [
        "| rate | clients | messages | publish→client p50 | p99 | max | out of order | missing "
        "| direct gets per message |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        d = sorted(run.delays_ms)
        rows.append(
            f"| {run.rate}/s | {args.clients} | {len(run.sent_ns)} "
            f"| {pct(d, 50):.2f} ms | {pct(d, 99):.2f} ms "
            f"| {max(d, default=float('nan')):.2f} ms | {run.out_of_order} | {run.missing} "
            f"| {run.gets / max(1, len(run.sent_ns)):.2f} |"
        )
    p99 = pct(sorted(runs[0].delays_ms), 99)
    ratio = GOAL_P99_MS / p99
    verdict = "met" if ratio >= 1 else "MISSED"
    body = "\n".join(
        [
            f"fsync on; fills, order updates and breaker events in turn; the manager service and granian "
            f"in this process with {args.clients} websockets clients (2 shared cores); "
            f"{seconds:g} s per rate. The machine is shared: load average {load_before:.1f} before, "
            f"{load_after:.1f} after ({os.cpu_count()} CPUs); tails are what the run got.",
            "",
            *rows,
            "",
            f"Goal p99 ≤ {GOAL_P99_MS:g} ms at 200/s: {verdict} (p99 {p99:.2f} ms). "
            f"Ratio = goal ÷ p99 = {ratio:.3f} (≥ 1 is good).",
        ]
    )
    print("\n".join(rows))
    record("live_feed", body)
    print(closing_line("live_feed", f"p99_at_200_per_s_ms={p99:.2f}", ratio, "p99<=50ms"))


if __name__ == "__main__":
    main()

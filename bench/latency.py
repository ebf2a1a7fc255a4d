"""Commit → consumer latency through the outbox, and gordon-bus → gordon-history sourcing delay.

Writers commit `publish_within` transactions (one OrderEvent each) at a fixed rate; a drain process
(`bench.drain_proc`, the committed Drain) forwards them; an ordered push consumer on gordon-bus records
when each arrives. Latency = receive time - the writer's time right after its commit returned (one
clock). Sourcing delay = stream time in gordon-history - stream time in gordon-bus (the server's clock).
The closing ratio is 15 ms ÷ p99 at 200 events/s: ≥ 1 meets the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass, field

import asyncpg
import nats
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from bench.drain import order
from bench.drain_subprocess import spawn, stop
from bench.report import closing_line, record
from bench.servers import BenchServers, bench_servers
from producers.channels import ORDERS
from producers.outbox import Outbox
from registry import headers as h
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import bot_token

GOAL_P99_MS = 15.0
WRITERS = 4


@dataclass
class Run:
    """One rate's measurements (milliseconds)."""

    rate: int
    seconds: float
    committed: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    bus_time: dict[str, float] = field(default_factory=dict)
    history_time: dict[str, float] = field(default_factory=dict)

    def latencies_ms(self) -> list[float]:
        return sorted((self.received[k] - t) / 1e6 for k, t in self.committed.items() if k in self.received)

    def sourcing_ms(self) -> list[float]:
        return sorted(
            (self.history_time[k] - t) * 1000 for k, t in self.bus_time.items() if k in self.history_time
        )


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def write_at(dsn: str, rate: int, seconds: float, run: Run) -> None:
    """`WRITERS` connections, each committing rate/WRITERS tx/s on a fixed schedule (no catch-up bursts
    beyond what fell behind)."""
    outbox = Outbox(REGISTRY, Service.EXECUTOR)
    base = order(1)
    address = ORDERS(bot_id=bot_token(base.bot_id))
    conns = [await asyncpg.connect(dsn) for _ in range(WRITERS)]
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    interval = WRITERS / rate

    async def writer(i: int, conn: asyncpg.Connection) -> None:
        k = 0
        while (due := start + (i / WRITERS + k) * interval) < start + seconds:
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            event = order(1)
            async with conn.transaction():
                await outbox.publish_within(conn, address, event)
            run.committed[str(event.event_id)] = time.time_ns()
            k += 1

    try:
        await asyncio.gather(*(writer(i, c) for i, c in enumerate(conns)))
    finally:
        for c in conns:
            await c.close()


async def measure(servers: BenchServers, rate: int, seconds: float) -> Run:
    run = Run(rate, seconds)
    client = await nats.connect(servers.nats_url)
    js = client.jetstream()

    async def on_bus(msg: Msg) -> None:
        now = time.time_ns()
        key = (msg.headers or {}).get(h.MSG_ID, "")
        run.received[key] = now
        run.bus_time[key] = msg.metadata.timestamp.timestamp()

    async def on_history(msg: Msg) -> None:
        key = (msg.headers or {}).get(h.MSG_ID, "")
        run.history_time[key] = msg.metadata.timestamp.timestamp()

    new = DeliverPolicy.NEW
    subs = [
        await js.subscribe(
            "trading.>", stream=REGISTRY.bus.name, cb=on_bus, ordered_consumer=True, deliver_policy=new
        ),
        await js.subscribe(
            "trading.>",
            stream=REGISTRY.history.name,
            cb=on_history,
            ordered_consumer=True,
            deliver_policy=new,
        ),
    ]
    try:
        await asyncio.sleep(0.5)
        await write_at(servers.dsn, rate, seconds, run)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while loop.time() < deadline and (  # noqa: ASYNC110 - waits for two callbacks' dicts
            len(run.received) < len(run.committed) or len(run.history_time) < len(run.committed)
        ):
            await asyncio.sleep(0.05)
    finally:
        for sub in subs:
            await sub.unsubscribe()
        await client.close()
    return run


async def main_async(servers: BenchServers, rates: list[int], seconds: float) -> list[Run]:
    drain = await spawn(servers, "latency")
    try:
        await asyncio.sleep(1.0)  # the drain leads and goes idle
        return [await measure(servers, rate, seconds) for rate in rates]
    finally:
        await stop(drain)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.latency")
    parser.add_argument("--quick", action="store_true", help="5 s per rate instead of 20 s")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 20.0
    with bench_servers(fsync=True) as servers:
        runs = asyncio.run(main_async(servers, [200, 2000], seconds))
    rows = [
        "| target rate | achieved tx/s | delivered | commit→consumer p50 | p99 | max "
        "| bus→history p50 | p99 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lat, src = run.latencies_ms(), run.sourcing_ms()
        rows.append(
            f"| {run.rate}/s | {len(run.committed) / run.seconds:,.0f} | {len(lat)}/{len(run.committed)} "
            f"| {pct(lat, 50):.2f} ms | {pct(lat, 99):.2f} ms | {max(lat, default=float('nan')):.2f} ms "
            f"| {pct(src, 50):.2f} ms | {pct(src, 99):.2f} ms |"
        )
    p99 = pct(runs[0].latencies_ms(), 99)
    ratio = GOAL_P99_MS / p99
    verdict = "met" if ratio >= 1 else "MISSED"
    mean = statistics.fmean(runs[0].latencies_ms())
    body = "\n".join(
        [
            f"fsync on; {WRITERS} writer connections; drain = `bench.drain_proc` (committed Drain, default "
            f"config) in its own process; {seconds:g} s per rate.",
            "",
            *rows,
            "",
            f"Goal p99 ≤ {GOAL_P99_MS:g} ms at 200/s: {verdict} (p99 {p99:.2f} ms, mean {mean:.2f} ms). "
            f"Ratio = goal ÷ p99 = {ratio:.3f} (≥ 1 is good).",
        ]
    )
    print("\n".join(rows))
    record("latency", body)
    print(
        closing_line(
            "latency", f"p99_at_200_per_s_ms={p99:.2f} (ratio=goal/p99, >=1 good)", ratio, "p99<=15ms"
        )
    )


if __name__ == "__main__":
    main()

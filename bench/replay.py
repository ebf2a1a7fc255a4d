"""Replay benchmark: how fast a projection rebuilds from gordon-history, how far a live runner lags,
and whether a long rebuild's memory stays flat. Throwaway embedded servers, fsync on.

1. Rebuild throughput vs raw read: N order events (200,000; --quick 50,000) published to gordon-bus and
   sourced into gordon-history; an ordered consumer reads them raw (events/s), a fixed-generation Runner
   folds them from seq 1 into a fresh generation (events/s). Ratio = rebuild / raw, goal >= 0.9. Each
   also reports its CPU per event (this process, and the servers': PostgreSQL and nats-server), which a
   busy shared machine blurs less than events/s.
2. Live lag: a live Runner (default config, as `gordon up` runs it) while events are published at a
   fixed 1,000/s; lag = the commit of the batch whose tracking row covers an event - just before its
   publish (one clock, one process). Goal p99 < 50 ms.
3. Memory: a rebuild of 1,000,000 events (--quick 100,000: --quick stays under a minute) in its own
   process; RSS sampled over time.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import nats
import psutil
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from bench.replay_events import (
    history_holds,
    order_events,
    publish_bulk,
    raw_read_rate,
)
from bench.report import closing_line, record
from bench.servers import BenchServers, bench_servers
from projections import generations
from projections.orders import OrdersProjection
from projections.runner import Batch, ProjectionHalted, Runner, RunnerConfig
from schemas import REGISTRY
from settings import roles
from settings.dsn import with_user

ORDERS = OrdersProjection()
GOAL_RATIO = 0.9
GOAL_LAG_MS = 50.0
LIVE_RATE = 1000


@dataclass
class Results:
    events: int
    raw: list[float] = field(default_factory=list)
    rebuild: list[float] = field(default_factory=list)
    raw_cpu: list[tuple[float, float]] = field(default_factory=list)
    rebuild_cpu: list[tuple[float, float]] = field(default_factory=list)
    """CPU µs per event of each round: (this process, the servers)."""
    lag: dict[str, dict[str, float]] = field(default_factory=dict)
    rss: list[tuple[float, int, float]] = field(default_factory=list)
    big: int = 0
    big_seconds: float = 0.0

    @property
    def ratio(self) -> float:
        """The median of each round's rebuild ÷ raw: a round's two runs are back to back, so the
        machine's drift (shared with other work) moves both; medians taken apart would mix rounds."""
        return statistics.median(b / a for a, b in zip(self.raw, self.rebuild, strict=True))


class TimedRunner(Runner[Any, Any]):
    """A live runner that notes when each batch (and its tracking row) committed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commits: list[tuple[float, int]] = []

    async def _apply(self, conn: asyncpg.Connection, schema: str, batch: Batch) -> None:
        await super()._apply(conn, schema, batch)
        self.commits.append((time.perf_counter(), self.stats.last_seq))


def servers_cpu_s(servers: BenchServers) -> float:
    """CPU seconds used so far by PostgreSQL (postmaster, its live and reaped backends) and nats-server."""
    total = 0.0
    for pid in (servers.postgres_pid, servers.nats_pid):
        if pid is None:
            continue
        parent = psutil.Process(pid)
        times = parent.cpu_times()
        total += times.user + times.system + times.children_user + times.children_system
        for child in parent.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
    return total


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def rebuild_rate(owner: asyncpg.Connection, projector: str, js: JetStreamContext, last: int) -> float:
    """Events/s of a fixed-generation Runner folding seq 1..`last` into a new generation (left live)."""
    live = await generations.live_generation(owner, ORDERS) or 0
    generation = live + 1
    await generations.create(owner, ORDERS, generation)
    runner = Runner(ORDERS, projector, js, REGISTRY, generation=generation)
    start = time.perf_counter()
    try:
        stats = await runner.run(asyncio.Event(), until_seq=last)
    except ProjectionHalted:
        await generations.drop(owner, ORDERS, generation)
        raise
    elapsed = time.perf_counter() - start
    assert stats.processed_seq == last, stats
    async with owner.transaction():
        await generations.point_views(owner, ORDERS, generation)
        if live:
            await generations.drop(owner, ORDERS, live)
    return stats.applied / elapsed


async def live_lag(
    client: NatsClient, projector: str, config: RunnerConfig, seconds: float
) -> dict[str, float]:
    """Publish at LIVE_RATE for `seconds` while a live runner follows; lag percentiles in ms."""
    js = client.jetstream()
    runner = TimedRunner(ORDERS, projector, js, REGISTRY, config)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    last = (await js.stream_info(REGISTRY.history.name)).state.last_seq
    while runner.stats.processed_seq < last:  # noqa: ASYNC110 - polling the runner's own stats
        await asyncio.sleep(0.05)
    published: dict[int, float] = {}
    events = order_events(int(LIVE_RATE * seconds))
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    for i, (subject, payload, headers) in enumerate(events):
        delay = start + i / LIVE_RATE - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.perf_counter()
        ack = await js.publish(subject, payload, headers=headers, stream=REGISTRY.bus.name)
        published[ack.seq] = sent
    achieved = len(published) / (loop.time() - start)
    final = max(published)
    while runner.stats.last_seq < final:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert (await js.stream_info(REGISTRY.history.name)).state.last_seq == final, "bus and history seq differ"
    times = [t for t, _ in runner.commits]
    covered = [s for _, s in runner.commits]
    lags = [(times[bisect.bisect_left(covered, seq)] - t) * 1000 for seq, t in published.items()]
    sizes = [b - a for (_, a), (_, b) in zip(runner.commits, runner.commits[1:], strict=False)]
    return {
        "rate": achieved,
        "p50": pct(lags, 50),
        "p99": pct(lags, 99),
        "max": max(lags),
        "batch": statistics.mean(sizes[-100:]) if sizes else 0.0,
    }


def watch_rebuild(
    servers: BenchServers, generation: int, until: int
) -> tuple[list[tuple[float, int, float]], float]:
    """Run bench.replay_proc and sample its RSS (MiB) and progress every half second."""
    projector = with_user(servers.dsn, roles.PROJECTOR)
    args = [
        sys.executable,
        "-m",
        "bench.replay_proc",
        servers.nats_url,
        projector,
        str(generation),
        str(until),
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    samples: list[tuple[float, int, float]] = []
    start = time.monotonic()
    while proc.poll() is None:
        try:
            rss = watched.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            break
        samples.append((time.monotonic() - start, 0, rss))
        time.sleep(0.5)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"bench.replay_proc failed with {proc.returncode}")
    done = json.loads(out.strip().splitlines()[-1])
    return samples, float(done["seconds"])


async def measure(servers: BenchServers, quick: bool) -> Results:
    n = 50_000 if quick else 200_000
    big = 100_000 if quick else 1_000_000
    client = await nats.connect(servers.nats_url)
    owner = await asyncpg.connect(servers.dsn)
    projector = with_user(servers.dsn, roles.PROJECTOR)
    results = Results(events=n, big=big)
    try:
        js = client.jetstream()
        published = await publish_bulk(client, order_events(n))
        last = await history_holds(js, published)
        for _ in range(3):  # alternate, so a warm cache or a busy moment favours neither
            for rates, cpu, read in (
                (results.raw, results.raw_cpu, raw_read_rate(js, published)),
                (results.rebuild, results.rebuild_cpu, rebuild_rate(owner, projector, js, last)),
            ):
                mine, theirs = time.process_time(), servers_cpu_s(servers)
                rates.append(await read)
                used = (time.process_time() - mine, servers_cpu_s(servers) - theirs)
                cpu.append((used[0] * 1e6 / published, used[1] * 1e6 / published))
        for label, config in (("default", RunnerConfig()), ("batch_size=100", RunnerConfig(batch_size=100))):
            results.lag[label] = await live_lag(client, projector, config, 3.0 if quick else 6.0)
        held = (await js.stream_info(REGISTRY.history.name)).state.messages
        await publish_bulk(client, order_events(big - held))
        until = await history_holds(js, big)
        generation = (await generations.live_generation(owner, ORDERS) or 0) + 1
        await generations.create(owner, ORDERS, generation)
    finally:
        await owner.close()
        await client.close()
    results.rss, results.big_seconds = await asyncio.to_thread(watch_rebuild, servers, generation, until)
    return results


def cpu(rounds: list[tuple[float, float]], which: int) -> float:
    """The median CPU µs per event of this process (0) or the servers (1)."""
    return statistics.median(x[which] for x in rounds)


def report(r: Results, quick: bool) -> str:
    raw, rebuild = statistics.median(r.raw), statistics.median(r.rebuild)
    rounds = ", ".join(f"{b / a:.3f}" for a, b in zip(r.raw, r.rebuild, strict=True))
    cpu_ratio = (cpu(r.raw_cpu, 0) + cpu(r.raw_cpu, 1)) / (cpu(r.rebuild_cpu, 0) + cpu(r.rebuild_cpu, 1))
    lines = [
        f"fsync on; {r.events:,} order events (4 per order, 8 bots) in gordon-history; "
        f"{len(r.raw)} alternating rounds, medians.",
        "",
        "| what | events/s (rounds) | CPU µs/event: this process | servers (PostgreSQL, nats-server) |",
        "|---|---:|---:|---:|",
        f"| raw ordered consumer read, `{ORDERS.subject.template.wildcard()}` | {raw:,.0f} "
        f"({', '.join(f'{x:,.0f}' for x in r.raw)}) | {cpu(r.raw_cpu, 0):.1f} | {cpu(r.raw_cpu, 1):.1f} |",
        f"| rebuild: fixed-generation Runner (pull batches) seq 1 → end | {rebuild:,.0f} "
        f"({', '.join(f'{x:,.0f}' for x in r.rebuild)}) | {cpu(r.rebuild_cpu, 0):.1f} | "
        f"{cpu(r.rebuild_cpu, 1):.1f} |",
        "",
        f"Rebuild ÷ raw, the median of the rounds' = {r.ratio:.3f} (rounds {rounds}; goal ≥ {GOAL_RATIO}: "
        f"{verdict(r.ratio >= GOAL_RATIO)}). CPU of raw ÷ CPU of rebuild, all processes: {cpu_ratio:.3f}.",
        "",
        f"Live lag at {LIVE_RATE:,} events/s (publish → commit of the batch whose tracking row covers it):",
        "",
        "| runner config | achieved/s | p50 | p99 | max | events per batch |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, lag in r.lag.items():
        lines.append(
            f"| {label} | {lag['rate']:,.0f} | {lag['p50']:.1f} ms | {lag['p99']:.1f} ms | "
            f"{lag['max']:.1f} ms | {lag['batch']:.1f} |"
        )
    default = r.lag["default"]["p99"]
    lines += [
        "",
        f"Goal p99 < {GOAL_LAG_MS:.0f} ms with the default config: "
        f"{'met' if default < GOAL_LAG_MS else 'MISSED'} ({default:.1f} ms).",
        "",
    ]
    peak = max(s[2] for s in r.rss)
    step = max(1, len(r.rss) // 8)
    over = ", ".join(f"{t:.0f} s: {m:.0f} MiB" for t, _, m in r.rss[::step])
    quarter = max(s[2] for s in r.rss[: max(1, len(r.rss) // 4)])
    lines.append(
        f"Rebuild of {r.big:,} events in its own process: {r.big / r.big_seconds:,.0f} events/s over "
        f"{r.big_seconds:.1f} s; RSS over time {over}; peak {peak:.0f} MiB "
        f"(first quarter's peak {quarter:.0f} MiB: {'flat' if peak <= quarter * 1.15 else 'GROWING'})."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    with bench_servers() as servers:
        results = asyncio.run(measure(servers, args.quick))
    body = report(results, args.quick)
    print(body)
    record("replay", body)
    print(closing_line("replay", "rebuild/raw events/s", results.ratio, f">={GOAL_RATIO}"))


if __name__ == "__main__":
    main()

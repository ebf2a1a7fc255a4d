"""Soak: the platform at a fixed rate for a long time — throughput, commit → projection latency, memory over
time, and nothing lost.

Throwaway embedded NATS and PostgreSQL (fsync on). `gordon up` runs in its own process against them
(drain + projection runners; `--services` adds services), exactly as deployed. This process writes
executor-shaped order lifecycles and fills through `publish_within` at `--rate` events/s for `--minutes`
(default 1,000/s for 10 minutes; `--quick`: 30 s), then waits for everything to settle and checks:

- throughput: events committed ÷ the writing time (ratio = achieved ÷ target rate);
- latency: commit → projection. Commit = the writer's clock when its commit returned. Applied = the
  database's clock_timestamp() noted by a trigger the soak puts on each projection's tracking row, inside
  the runner's transaction that applies the event's batch, just before that transaction commits (one
  machine, one clock). The event's batch is the first whose last_seq covers the event's gordon-history
  sequence;
- memory: RSS of `gordon up` and nats-server, PSS of Postgres (postmaster + backends), every
  `--sample-s` s, and again after a minute idle; growth = least-squares slope over the second half of
  the load (the first is warm-up: caches, pools, heap sizing), in MiB/hour (goal < 20 MiB/h for the
  platform's own processes: `gordon up` and nats-server);
- where the time goes: commit → gordon-history as this process receives it (drain, sourcing, delivery;
  no runner), beside commit → projection;
- loss: every committed event is in gordon-bus and gordon-history exactly once, each order's projected
  version is its last committed version, each bot's position has seen every fill, nothing halted, no
  dead letters, and every service durable (with `--services`) handled all it was sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import nats
from nats.js import JetStreamContext

from bench.report import closing_line, record
from bench.servers import BenchServers, bench_servers
from bench.soak_load import Written, write_at
from bench.soak_watch import HistoryIndex, Memory, applied_at, applied_times, install_applied_log
from schemas import REGISTRY
from settings import roles
from settings.dsn import with_user

ROOT = Path(__file__).resolve().parents[1]
GOAL_GROWTH_MIB_H = 20.0
PROJECTIONS = ("orders", "positions")
SETTLE_S = 180.0


@dataclass
class Soak:
    """One run's measurements."""

    rate: float
    seconds: float
    services: str
    written: Written = field(default_factory=Written)
    wall_s: float = 0.0
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    history_ms: list[float] = field(default_factory=list)
    memory: Memory | None = None
    settle_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    schemas: dict[str, str] = field(default_factory=dict)
    writers: int = 16
    cooldown_s: float = 60.0
    idle_from_s: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def achieved(self) -> float:
        return len(self.written.committed_ns) / self.wall_s if self.wall_s else 0.0

    def all_latencies(self) -> list[float]:
        return sorted(v for values in self.latency_ms.values() for v in values)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def start_platform(servers: BenchServers, services: str, log: Path) -> asyncio.subprocess.Process:
    """`gordon up` against the run's servers, in its own process; returns once it printed `ready`."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GORDON_NATS_URL": servers.nats_url,
        "GORDON_DATABASE_URL": servers.dsn,
    }
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gordon",
            "up",
            "--services",
            services,
            "--no-view",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if not line:
            raise RuntimeError(f"gordon up exited ({proc.returncode}); see {log}")
        if b"ready" in line:
            return proc


async def stop_platform(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return proc.returncode or 0


async def durables_behind(js: JetStreamContext) -> dict[str, int]:
    """Each service durable on gordon-bus with messages still to deliver or to ack (none: caught up)."""
    behind = {}
    for info in await js.consumers_info(REGISTRY.bus.name):
        left = info.num_pending + info.num_ack_pending
        if info.config.durable_name and left:
            behind[info.config.durable_name] = left
    return behind


async def settle(
    conn: asyncpg.Connection, js: JetStreamContext, index: HistoryIndex, soak: Soak, schemas: dict[str, str]
) -> None:
    """Wait until the outbox is drained, history holds every event, both projections cover them and
    every service durable has handled what it was sent."""
    written = soak.written
    start = time.monotonic()
    while time.monotonic() - start < SETTLE_S:
        left = await conn.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL")
        indexed = all(k in index.seq for k in written.committed_ns)
        if left == 0 and indexed:
            wanted = {
                "orders": max((index.seq[k] for k in written.order_ids), default=0),
                "positions": max((index.seq[k] for k in written.fill_ids), default=0),
            }
            done = [
                await conn.fetchval(f"SELECT last_seq FROM {schemas[n]}.tracking") >= wanted[n]
                for n in PROJECTIONS
            ]
            if all(done) and not await durables_behind(js):
                soak.settle_s = time.monotonic() - start
                return
        await asyncio.sleep(0.2)
    soak.problems.append(f"not settled {SETTLE_S:.0f} s after the writers stopped")


async def trading_messages(js: JetStreamContext, stream: str) -> int:
    """Messages of `stream` on trading subjects (services may add others, such as risk events)."""
    info = await js.stream_info(stream, subjects_filter="trading.>")
    return sum((info.state.subjects or {}).values())


async def check(conn: asyncpg.Connection, index: HistoryIndex, soak: Soak, nats_url: str) -> None:
    """Zero loss and no duplicates, from the outbox to the projections."""
    written = soak.written
    committed = len(written.committed_ns)
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        bus = await trading_messages(js, REGISTRY.bus.name)
        history = await trading_messages(js, REGISTRY.history.name)
        letters = (await js.stream_info(REGISTRY.dead_letters.name)).state.messages
        behind = await durables_behind(js)
        durables = [c.config.durable_name for c in await js.consumers_info(REGISTRY.bus.name)]
    finally:
        await client.close()
    missing = [k for k in written.committed_ns if k not in index.seq]
    quarantined = await conn.fetchval("SELECT count(*) FROM bus.outbox WHERE quarantined_at_ms IS NOT NULL")
    unpublished = await conn.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL")
    orders = {r[0]: r[1] for r in await conn.fetch("SELECT order_id, version FROM trading.orders")}
    positions = {r[0]: r[1] for r in await conn.fetch("SELECT bot_id, version FROM trading.positions")}
    halts = await conn.fetch(
        "SELECT projection, halted_reason FROM ("
        + " UNION ALL ".join(
            f"SELECT '{n}' AS projection, halted_reason FROM {s}.tracking" for n, s in soak.schemas.items()
        )
        + ") t WHERE halted_reason IS NOT NULL"
    )
    wrong_orders = sum(1 for o, v in written.order_versions.items() if orders.get(o) != v)
    wrong_positions = sum(1 for b, v in written.fills.items() if v and positions.get(b) != v)
    facts = {
        f"committed {committed:,}; gordon-bus holds {bus:,} trading events, gordon-history {history:,}": (
            bus == committed and history == committed
        ),
        f"missing from history {len(missing)}, duplicates seen {index.duplicates}": not missing
        and not index.duplicates,
        f"outbox unpublished {unpublished}, quarantined {quarantined}": not unpublished and not quarantined,
        f"orders projected at their last version {len(written.order_versions) - wrong_orders:,}"
        f"/{len(written.order_versions):,}": not wrong_orders,
        f"positions with every fill {len(written.fills) - wrong_positions}/{len(written.fills)}": (
            not wrong_positions
        ),
        f"projection halts {len(halts)}": not halts,
        f"dead letters {letters}": not letters,
        f"service durables caught up {len(durables) - len(behind)}/{len(durables)}": not behind,
        f"writer failures {len(written.failures)}": not written.failures,
    }
    for fact, ok in facts.items():
        soak.checked.append(fact + ("" if ok else " ← LOSS/ERROR"))
        if not ok:
            soak.problems.append(fact)


async def measure(servers: BenchServers, soak: Soak, sample_s: float) -> None:
    log = servers.data_dir / "gordon-up.log"
    platform = await start_platform(servers, soak.services, log)
    conn = await asyncpg.connect(servers.dsn)
    client = await nats.connect(servers.nats_url)
    index = HistoryIndex()
    stop_sampling = asyncio.Event()
    pids = {"gordon up": platform.pid, "soak writer": os.getpid()}
    if servers.nats_pid:
        pids["nats-server"] = servers.nats_pid
    if servers.postgres_pid:
        pids["postgres"] = servers.postgres_pid
    soak.memory = Memory(pids)
    try:
        schemas = soak.schemas = await install_applied_log(conn, PROJECTIONS)
        await index.start(client)
        sampler = asyncio.create_task(soak.memory.run(sample_s, stop_sampling))
        start = time.monotonic()
        soak.load_before = os.getloadavg()
        await write_at(
            with_user(servers.dsn, roles.EXECUTOR), soak.rate, soak.seconds, soak.writers, soak.written
        )
        soak.load_after = os.getloadavg()
        soak.wall_s = time.monotonic() - start
        await settle(conn, client.jetstream(), index, soak, schemas)
        settled = soak.memory.samples[-1][0] if soak.memory.samples else 0.0
        await asyncio.sleep(soak.cooldown_s)  # idle: does memory come back down?
        soak.idle_from_s = settled
        stop_sampling.set()
        await sampler
        await check(conn, index, soak, servers.nats_url)
        for name in PROJECTIONS:
            seqs, times = await applied_times(conn, name)
            ids = soak.written.order_ids if name == "orders" else soak.written.fill_ids
            values = []
            for key in ids:
                at = applied_at(seqs, times, index.seq.get(key, 1 << 62))
                if at is not None:
                    values.append((at - soak.written.committed_ns[key]) / 1e6)
            soak.latency_ms[name] = sorted(values)
        soak.history_ms = sorted(
            (index.arrived_ns[k] - t) / 1e6
            for k, t in soak.written.committed_ns.items()
            if k in index.arrived_ns
        )
    finally:
        stop_sampling.set()
        await index.stop()
        await client.close()
        await conn.close()
        code = await stop_platform(platform)
        if code not in (0, -signal.SIGTERM):
            soak.problems.append(f"gordon up exited {code}; see its log")


def memory_rows(soak: Soak) -> tuple[list[str], dict[str, float]]:
    memory = soak.memory
    assert memory is not None
    warmup = soak.seconds / 2
    names = [n for n in ("gordon up", "nats-server", "postgres", "soak writer") if memory.series(n)]
    growth = {n: memory.growth_mib_per_h(n, warmup, soak.idle_from_s) for n in names}
    rows = [
        "| process | start | end of load | peak | after idle | growth over the second half |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for n in names:
        series = memory.series(n)
        loaded = [m for t, m in series if t <= soak.idle_from_s] or [series[-1][1]]
        rows.append(
            f"| {n} | {series[0][1]:.0f} MiB | {loaded[-1]:.0f} MiB | {max(m for _, m in series):.0f} MiB "
            f"| {series[-1][1]:.0f} MiB | {growth[n]:+.1f} MiB/h |"
        )
    return rows, growth


def latency_row(name: str, values: list[float]) -> str:
    top = max(values, default=float("nan"))
    return (
        f"| {name} | {len(values):,} | {pct(values, 50):.1f} ms | {pct(values, 99):.1f} ms | {top:.1f} ms |"
    )


def report(soak: Soak, quick: bool) -> tuple[str, float, float, float]:
    lat = soak.all_latencies()
    rows, growth = memory_rows(soak)
    platform_growth = max(growth.get("gordon up", float("nan")), growth.get("nats-server", float("nan")))
    ratio = soak.achieved / soak.rate
    memory = soak.memory
    assert memory is not None
    step = max(1, len(memory.samples) // 10)
    curve = "; ".join(
        f"{t:.0f} s: " + ", ".join(f"{n} {m:.0f}" for n, m in row.items() if n != "soak writer")
        for t, row in memory.samples[::step]
    )
    lines = [
        f"fsync on; `gordon up --services {soak.services}` in its own process (drain + projection runners"
        f"{'' if soak.services == 'none' else ' + ' + soak.services}); {soak.writers} writer connections "
        f"committing executor-shaped order lifecycles and fills (one `publish_within` transaction per event) "
        "at "
        f"{soak.rate:,.0f}/s for {soak.seconds:,.0f} s. The machine is shared with other work while "
        "this runs: figures are what it got, not what it can do alone (load average "
        f"{soak.load_before[0]:.1f} before the writers started, {soak.load_after[0]:.1f} when they stopped; "
        f"{os.cpu_count()} CPUs).",
        "",
        f"Throughput: {len(soak.written.committed_ns):,} events in {soak.wall_s:.1f} s = "
        f"{soak.achieved:,.0f}/s (target {soak.rate:,.0f}/s, ratio {ratio:.3f}); settled "
        f"{soak.settle_s:.1f} s after the writers stopped.",
        "",
        "| commit → projection | events | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|",
        *[latency_row(n, v) for n, v in soak.latency_ms.items()],
        latency_row("all", lat),
        latency_row(
            "(commit → gordon-history, seen by this process: drain + sourcing, no runner)", soak.history_ms
        ),
        "",
        "Memory (RSS; Postgres = PSS of postmaster + backends; the soak writer holds every event's "
        "timestamps by design and is not part of the goal):",
        "",
        *rows,
        "",
        f"Over time (MiB): {curve}.",
        "",
        "CPU while sampled (user + system, % of one core): "
        + ", ".join(f"{n} {100 * c / max(memory.samples[-1][0], 1e-9):.0f}%" for n, c in memory.cpu_s.items())
        + ".",
        "",
        f"Growth goal < {GOAL_GROWTH_MIB_H:g} MiB/h for `gordon up` and nats-server: "
        f"{'met' if platform_growth < GOAL_GROWTH_MIB_H else 'MISSED'} ({platform_growth:+.1f} MiB/h)"
        + (" — a quick run is too short to extrapolate an hour from." if quick else "."),
        "",
        "Loss checks: " + "; ".join(soak.checked) + ".",
    ]
    if soak.problems:
        lines += ["", "PROBLEMS: " + "; ".join(soak.problems)]
    return "\n".join(lines), ratio, pct(lat, 99), platform_growth


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s to commit (default 1000)")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to write (default 10)")
    parser.add_argument("--quick", action="store_true", help="30 s of writing, under a minute in all")
    parser.add_argument("--services", default="none", help="services `gordon up` also runs (default none)")
    parser.add_argument("--writers", type=int, default=16, help="writer connections (default 16)")
    parser.add_argument("--sample-s", type=float, default=None, help="memory sampling period (default 10 s)")
    args = parser.parse_args()
    if args.rate <= 0 or args.minutes <= 0 or args.writers < 1:
        parser.error("--rate, --minutes and --writers must be positive")
    seconds = 30.0 if args.quick else args.minutes * 60
    sample_s = args.sample_s or (2.0 if args.quick else 10.0)
    soak = Soak(
        args.rate, seconds, args.services, writers=args.writers, cooldown_s=5.0 if args.quick else 60.0
    )
    with bench_servers(fsync=True) as servers:
        asyncio.run(measure(servers, soak, sample_s))
    body, ratio, p99, growth = report(soak, args.quick)
    print(body)
    record("soak", body)
    lost = len(soak.problems)
    print(
        closing_line(
            "soak",
            f"events_per_s={soak.achieved:.0f} p99_commit_to_projection_ms={p99:.1f} "
            f"rss_growth_mib_per_h={growth:.1f} problems={lost}",
            ratio,
            f"rate>={args.rate:.0f}/s,growth<{GOAL_GROWTH_MIB_H:g}MiB/h,lost=0",
        )
    )
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    main()

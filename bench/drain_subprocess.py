"""Drains in subprocesses (`bench.drain_proc`): a backlog's time and memory, and leader takeover time."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.servers import BenchServers

ROOT = Path(__file__).resolve().parents[1]


def rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    """A memory figure of process `pid` from /proc (VmRSS now, VmHWM peak), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise LookupError(f"{field_name} missing for pid {pid}")


async def spawn(servers: BenchServers, name: str) -> asyncio.subprocess.Process:
    """Start one drain process and wait for its `ready` line."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.drain_proc",
        "--dsn",
        servers.dsn,
        "--nats-url",
        servers.nats_url,
        "--name",
        name,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if not line.startswith(b"ready"):
        raise RuntimeError(f"drain {name} did not start: {line!r}")
    return proc


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@dataclass
class Backlog:
    """How a drain process emptied a backlog: time, and its memory over the run."""

    rows: int
    seconds: float = 0.0
    samples_kib: list[tuple[float, int]] = field(default_factory=list)
    peak_kib: int = 0

    def summary(self) -> str:
        points = self.samples_kib
        marks = [points[int(f * (len(points) - 1))] for f in (0.0, 0.25, 0.5, 0.75, 1.0)] if points else []
        curve = ", ".join(f"{t:.0f} s: {kib / 1024:.0f} MiB" for t, kib in marks)
        return (
            f"Backlog of {self.rows:,} rows, drain subprocess: drained in "
            f"{self.seconds:.1f} s ({self.rows / self.seconds:,.0f}/s); RSS over time {curve}; "
            f"peak RSS (VmHWM) {self.peak_kib / 1024:.0f} MiB."
        )


async def _backlog(servers: BenchServers, rows: int) -> Backlog:
    result = Backlog(rows)
    check = await asyncpg.connect(servers.dsn)
    proc = await spawn(servers, "backlog")
    start = time.perf_counter()
    try:
        while True:
            result.samples_kib.append((time.perf_counter() - start, rss_kib(proc.pid)))
            left = int(await check.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL"))
            if left == 0:
                break
            if proc.returncode is not None:
                raise RuntimeError(f"the drain exited with {proc.returncode} with {left} rows left")
            await asyncio.sleep(0.5)
        result.seconds = time.perf_counter() - start
        result.samples_kib.append((result.seconds, rss_kib(proc.pid)))
        result.peak_kib = rss_kib(proc.pid, "VmHWM")
    finally:
        await stop(proc)
        await check.close()
    return result


def backlog_run(servers: BenchServers, rows: int) -> Backlog:
    """Run a drain process over the pre-filled outbox until no row is left unpublished."""
    return asyncio.run(_backlog(servers, rows))


async def _leader_line(proc: asyncio.subprocess.Process, wait_s: float) -> int:
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), wait_s)
        if not line:
            raise RuntimeError("drain exited before leading")
        if line.startswith(b"leader "):
            return int(line.split()[1])


async def _takeovers(servers: BenchServers, rounds: int) -> list[float]:
    procs = [await spawn(servers, "takeover-a")]
    await _leader_line(procs[0], 10)
    leader = procs[0]
    times: list[float] = []
    try:
        for i in range(rounds):
            standby = await spawn(servers, f"takeover-{i}")
            procs.append(standby)
            await asyncio.sleep(0.5)  # the standby is polling the lock
            killed_ns = time.time_ns()
            leader.kill()
            await leader.wait()
            led_ns = await _leader_line(standby, 30)
            times.append((led_ns - killed_ns) / 1e9)
            leader = standby
    finally:
        for proc in procs:
            await stop(proc)
    return times


def takeover_rounds(servers: BenchServers, rounds: int) -> list[float]:
    """SIGKILL the leading drain `rounds` times; each time, seconds until the standby leads."""
    return asyncio.run(_takeovers(servers, rounds))

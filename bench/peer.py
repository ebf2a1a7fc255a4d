"""gordon's drain against a peer: the faststream-outbox relay (Postgres outbox table → FastStream NATS
JetStream publisher), on the same embedded servers in the same run, alternating rounds.

The peer lives in its own throwaway venv (`GORDON_PEER_VENV`, default /tmp/gordon-peer-venv, created on
first use with pip); it is never a dependency of the project. Both sides relay the same kline payload with
the same kind of headers (a Nats-Msg-Id each) into a file stream with the same duplicate window, from an
outbox pre-filled before the clock starts; each is timed from start to the last row relayed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import nats
from nats.js.errors import NotFoundError

from bench.drain import drain_rate, klines, prefill, reset
from bench.report import closing_line, record
from bench.servers import BenchServers, bench_servers
from producers.drain.config import DrainConfig
from schemas import REGISTRY

PEER_VENV = Path(os.environ.get("GORDON_PEER_VENV", "/tmp/gordon-peer-venv"))
PACKAGES = ("faststream-outbox[asyncpg]==0.19.0", "faststream[nats]==0.7.8")
PEER_STREAM = "peer-bus"
PEER_SUBJECT = "peer.klines"
SETTINGS = ((8, 100, 100), (16, 200, 100), (32, 500, 200))
"""(max_workers, fetch_batch_size, terminal_flush_batch_size) the peer is run with; the best one counts."""


def peer_python() -> Path:
    """The peer venv's Python, creating the venv and installing the peer into it when missing."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *PACKAGES], check=True)
    return python


async def fresh_peer_stream(url: str) -> None:
    """A peer stream configured as gordon-bus is (file storage, limits, duplicate window), empty."""
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(PEER_STREAM)
        spec = dataclasses.replace(
            REGISTRY.bus, name=PEER_STREAM, subjects=(PEER_SUBJECT,), allow_batched=False, description="peer"
        )
        await js.add_stream(spec.config())
    finally:
        await client.close()


async def stream_count(url: str, stream: str) -> int:
    client = await nats.connect(url)
    try:
        return int((await client.jetstream().stream_info(stream)).state.messages)
    finally:
        await client.close()


def peer_rate(servers: BenchServers, n: int, setting: tuple[int, int, int]) -> dict[str, float]:
    """One peer run: its own table in the same database, relayed to the peer stream."""
    asyncio.run(fresh_peer_stream(servers.nats_url))
    workers, fetch, flush = setting
    payload = next(iter(klines(1))).payload
    argv = [
        str(peer_python()),
        str(Path(__file__).with_name("peer_relay.py")),
        "--dsn",
        servers.dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
        "--nats",
        servers.nats_url,
        "--stream",
        PEER_STREAM,
        "--subject",
        PEER_SUBJECT,
        "--payload-hex",
        payload.hex(),
        "--n",
        str(n),
        "--workers",
        str(workers),
        "--fetch",
        str(fetch),
        "--flush",
        str(flush),
    ]
    done = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=900)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    stored = asyncio.run(stream_count(servers.nats_url, PEER_STREAM))
    assert stored == n, f"the peer stream holds {stored} messages, expected {n}"
    return result


async def gordon_rate(servers: BenchServers, n: int) -> float:
    client = await nats.connect(servers.nats_url)
    try:
        await reset(servers.dsn, client)
        await prefill(servers.dsn, n)
        return await drain_rate(servers.dsn, client, n, None, DrainConfig())
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer")
    parser.add_argument("--quick", action="store_true", help="20k rows, 1 round")
    args = parser.parse_args()
    n, rounds = (20_000, 1) if args.quick else (100_000, 3)
    peer_python()
    gordon: list[float] = []
    peers: dict[tuple[int, int, int], list[float]] = {s: [] for s in SETTINGS}
    with bench_servers(fsync=True) as servers:
        for _ in range(rounds):
            gordon.append(asyncio.run(gordon_rate(servers, n)))
            print(f"gordon drain {gordon[-1]:,.0f}/s", flush=True)
            for setting in SETTINGS:
                peers[setting].append(peer_rate(servers, n, setting)["rate"])
                print(f"peer {setting} {peers[setting][-1]:,.0f}/s", flush=True)
    ours = statistics.median(gordon)
    best = max(SETTINGS, key=lambda s: statistics.median(peers[s]))
    theirs = statistics.median(peers[best])
    ratio = ours / theirs
    lines = [
        f"{n:,} kline rows pre-filled in each outbox, median of {rounds} alternating rounds, fsync on, one "
        "nats-server and one PostgreSQL for both; each side's stream is a file stream configured as "
        "gordon-bus (the peer's without `allow_batched`).",
        "",
        "| relay | events/s |",
        "|---|---:|",
        f"| gordon `Drain` as committed (fast batches) | {ours:,.0f} |",
    ]
    for setting in SETTINGS:
        w, f, t = setting
        lines.append(
            f"| faststream-outbox 0.19.0 relay, max_workers={w}, fetch_batch_size={f}, "
            f"terminal_flush_batch_size={t} | {statistics.median(peers[setting]):,.0f} |"
        )
    lines += ["", f"gordon ÷ best peer setting = {ratio:.3f}."]
    record("peer", "\n".join(lines))
    print(closing_line("peer", f"gordon_per_s={ours:,.0f} peer_per_s={theirs:,.0f}", ratio, ">=1.0"))


if __name__ == "__main__":
    main()

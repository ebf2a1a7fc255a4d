"""Drain failover and outages against real servers: a SIGKILLed leader, NATS down, Postgres restarted."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from gordon.migrate import upgrade
from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.postgres_server import EmbeddedPostgres
from producers.drain.runner import connect_nats, run_drain
from registry.ids import uuid7
from registry.streams import ensure_streams
from schemas import REGISTRY
from tests.conftest import small_spec
from tests.outbox.conftest import FAST, count_unpublished, order_event, stored, wait_until, write

LEADS = re.compile(r"(\S+) leads the outbox drain")


def start_drain(nats_url: str, dsn: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GORDON_NATS_URL": nats_url, "GORDON_DATABASE_URL": dsn}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gordon", "drain", "--batch-size", "100"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def leader_in(log: Path) -> str | None:
    found = LEADS.findall(log.read_text(errors="replace"))
    return found[-1] if found else None


@pytest.mark.timeout(180)
async def test_sigkilled_leader_is_replaced_and_nothing_is_lost(
    database: str,
    dsn_for: Callable[[str, str], str],
    nats_url: str,
    nats: NatsClient,
    fresh_bus: Callable[[], Awaitable[None]],
    tmp_path: Path,
) -> None:
    await fresh_bus()
    drain_dsn = dsn_for(database, "gordon_drain")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    first = start_drain(nats_url, drain_dsn, logs[0])
    procs = [first]
    try:
        await wait_until(lambda: _true(leader_in(logs[0]) is not None), "drain A to lead")
        procs.append(start_drain(nats_url, drain_dsn, logs[1]))
        writer = await asyncpg.connect(database)
        events = [order_event(uuid7(), 1) for _ in range(3000)]

        async def write_all() -> None:
            for i, event in enumerate(events):
                await write(writer, event)
                if i % 50 == 0:
                    await asyncio.sleep(0.01)

        writing = asyncio.create_task(write_all())
        js = nats.jetstream()
        await wait_until(lambda: _stream_has(js, 800), "A to publish under load")
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await wait_until(lambda: _true(leader_in(logs[1]) is not None), "drain B to take over")
        takeover = time.monotonic() - killed_at
        await writing
        await wait_until(lambda: _drained(database), "the outbox to drain", 60)
        await writer.close()
        messages = await stored(js)
        assert sorted(m.msg_id for m in messages) == sorted(str(e.event_id) for e in events)
        assert takeover < 30, f"takeover took {takeover:.1f}s"
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(15)
    assert procs[1].returncode == 0
    summary = logs[1].read_text()
    assert "stopped: DrainStats(" in summary


async def _true(value: bool) -> bool:
    return value


async def _stream_has(js: JetStreamContext, n: int) -> bool:
    return (await js.stream_info("gordon-bus")).state.messages >= n


async def _drained(dsn: str) -> bool:
    return await count_unpublished(dsn) == 0


@pytest.mark.timeout(120)
async def test_nats_down_for_10s_writers_never_block_and_everything_arrives(
    database: str, tmp_path: Path
) -> None:
    server = EmbeddedNats(tmp_path / "nats").start()
    port = int(server.url.rsplit(":", 1)[1])
    try:
        client = await connect_nats(server.url, "test")
        js = client.jetstream()
        await ensure_streams(js, [small_spec(s) for s in REGISTRY.streams])
        stop = asyncio.Event()
        draining = asyncio.create_task(run_drain(server.url, database, stop, FAST))
        writer = await asyncpg.connect(database)
        events = [order_event(uuid7(), 1) for _ in range(300)]
        for event in events[:100]:
            await write(writer, event)
        await wait_until(lambda: _drained(database), "the first 100")
        server.stop()
        slowest = 0.0
        outage_end = time.monotonic() + 10
        written = 100
        while time.monotonic() < outage_end:
            began = time.monotonic()
            await write(writer, events[written])
            slowest = max(slowest, time.monotonic() - began)
            written += 1
            await asyncio.sleep(0.05)
        assert written > 150
        server = EmbeddedNats(tmp_path / "nats", port=port).start()
        for event in events[written:]:
            await write(writer, event)
        await wait_until(lambda: _drained(database), "the backlog after NATS came back", 60)
        assert slowest < 1.0, f"a writer waited {slowest:.2f}s while NATS was down"
        messages = await stored(js)
        assert sorted(m.msg_id for m in messages) == sorted(str(e.event_id) for e in events)
        stop.set()
        await asyncio.wait_for(draining, 15)
        await writer.close()
        await client.close()
    finally:
        server.stop()


@pytest.mark.timeout(120)
async def test_postgres_restart_mid_drain_recovers_by_itself(
    nats_url: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]], tmp_path: Path
) -> None:
    await fresh_bus()
    pg = EmbeddedPostgres(tmp_path / "pg", fsync=False).start()
    try:
        upgrade(pg.dsn())
        stop = asyncio.Event()
        draining = asyncio.create_task(run_drain(nats_url, pg.dsn(), stop, FAST))
        events = [order_event(uuid7(), 1) for _ in range(200)]
        writer = await asyncpg.connect(pg.dsn())
        for event in events[:100]:
            await write(writer, event)
        await wait_until(lambda: _drained(pg.dsn()), "the first 100")
        await writer.close()
        pg.crash()
        pg.start()
        writer = await asyncpg.connect(pg.dsn())
        for event in events[100:]:
            await write(writer, event)
        await writer.close()
        await wait_until(lambda: _drained(pg.dsn()), "the rows written after the restart", 60)
        messages = await stored(nats.jetstream())
        assert sorted(m.msg_id for m in messages) == sorted(str(e.event_id) for e in events)
        stop.set()
        await asyncio.wait_for(draining, 15)
    finally:
        pg.stop()

"""`gordon up` as a user runs it: ready line, clean exit on SIGINT, no orphans after SIGKILL."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest

from gordon.runtime.proctree import Proc, alive
from gordon.runtime.servers import Endpoints
from gordon.up import ServiceError, supervise
from producers.outbox import Outbox
from registry.subject import Service
from schemas import REGISTRY
from schemas.risk import Breaker
from services.risk import halt
from services.risk.breakers import Breach
from settings import endpoints, nats_login
from stores.latch import LatchStore
from tests.platform_process import Up, second_shell


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One GORDON_DATA_DIR for the module: the second run reuses what the first created."""
    return tmp_path_factory.mktemp("gordon-data")


@pytest.fixture
def gordon_up(data_dir: Path) -> Iterator[Up]:
    up = Up(data_dir)
    try:
        yield up
    finally:
        up.end()


def wait_until_gone(procs: set[Proc], timeout: float) -> list[Proc]:
    """Wait for every process in `procs` to exit; returns those still alive at the timeout."""
    deadline = time.monotonic() + timeout
    while (left := [proc for proc in procs if alive(proc)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


async def test_ready_then_sigint_exits_0_and_leaves_nothing(gordon_up: Up, data_dir: Path) -> None:
    tree = gordon_up.tree()
    assert len(tree) >= 2, "nats-server and the postmaster with its processes"
    connection = await asyncpg.connect(gordon_up.endpoints.database_url)
    store = LatchStore(Outbox(REGISTRY, Service.RISK))
    async with connection.transaction():
        latch = await store.load(connection)
        latch.trip(Breaker.DRAWDOWN, 0.06, 0.05, "up test", ts_ms=1)
        (event,) = await store.save(connection, latch)
    halted = None
    for _ in range(300):  # the drain, the history stream and the latch projection all run inside up
        halted = await connection.fetchval("SELECT halted FROM trading.risk_state WHERE latch_id = 'global'")
        if halted:
            break
        await asyncio.sleep(0.05)
    await connection.close()
    assert halted, gordon_up.stderr()
    with pytest.raises(nats.errors.Error, match=r"[Aa]uthorization"):
        await nats.connect(gordon_up.endpoints.nats_url, allow_reconnect=False, connect_timeout=5)
    run = endpoints.read(data_dir)
    assert run is not None
    assert run.pid == gordon_up.process.pid
    assert endpoints.path(data_dir).stat().st_mode & 0o777 == 0o600, "it holds the run's passwords"
    assert set(run.nats_passwords) == set(nats_login.USERS)
    admin = nats_login.connect_options(
        nats_login.ADMIN, {nats_login.password_env("admin"): run.nats_passwords["admin"]}
    )
    client = await nats.connect(gordon_up.endpoints.nats_url, allow_reconnect=False, **admin)
    stored = await client.jetstream().get_msg("gordon-bus", 1)
    await client.close()
    status = second_shell(data_dir, "projections", "status")
    assert status.returncode == 0, status.stderr
    assert re.search(r"^risk_state\s+\d+\s+[1-9]", status.stdout, re.M), status.stdout  # it saw the trip
    assert (stored.headers or {})["Nats-Msg-Id"] == str(event.event_id)
    assert "database migrated to head" in gordon_up.stderr()
    assert "gordon-bus" in gordon_up.stderr()
    assert "gordon up: manager API at http://127.0.0.1:" in gordon_up.stderr()  # the manager serves it
    assert set(run.http) == {"data", "bot", "executor", "risk", "manager", "workers"}
    async with httpx.AsyncClient(timeout=10) as http:  # what `curl` on each port gets
        for name, url in run.http.items():
            page = await http.get(f"{url}/metrics")
            assert page.status_code == 200, (name, page.text)
            assert ("gordon_drain_leader" if name == "workers" else "gordon_service_ready") in page.text
            if name != "workers":
                health = await http.get(f"{url}/healthz")
                assert health.status_code in (200, 503), (name, health.text)
                assert "postgres" in health.json()["checks"], (name, health.text)

    gordon_up.process.send_signal(signal.SIGINT)
    assert gordon_up.process.wait(timeout=60) == 0, gordon_up.stderr()
    assert wait_until_gone(tree, timeout=5) == []
    assert "gordon up: stopped" in gordon_up.stderr()
    assert not endpoints.path(data_dir).exists(), "a clean stop removes the endpoints file"


async def test_sigkill_leaves_no_orphan_and_the_next_run_has_the_data(gordon_up: Up, data_dir: Path) -> None:
    connection = await asyncpg.connect(gordon_up.endpoints.database_url)
    await connection.execute("CREATE TABLE IF NOT EXISTS kept_across_runs (mark text)")
    await connection.execute("INSERT INTO kept_across_runs VALUES ($1)", str(data_dir))
    await connection.close()
    tree = gordon_up.tree()

    gordon_up.process.kill()
    gordon_up.process.wait(timeout=10)
    assert wait_until_gone(tree, timeout=60) == [], "PDEATHSIG ends the servers"
    stale = second_shell(data_dir, "projections", "status")
    assert stale.returncode == 1
    assert stale.stderr.count("\n") == 1, stale.stderr
    assert "no longer running" in stale.stderr

    again = Up(data_dir)
    try:
        connection = await asyncpg.connect(again.endpoints.database_url)
        marks = await connection.fetchval(
            "SELECT count(*) FROM kept_across_runs WHERE mark = $1", str(data_dir)
        )
        await connection.close()
        assert marks == 1
        again.process.send_signal(signal.SIGINT)
        assert again.process.wait(timeout=60) == 0, again.stderr()
    finally:
        again.end()


async def test_supervisor_stops_services_on_sigterm() -> None:
    endpoints = Endpoints(nats_url="nats://unused", database_url="postgresql://unused@x/y")
    cancelled = asyncio.Event()

    async def forever(_: Endpoints) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def stop_soon() -> None:
        await asyncio.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    stopper = asyncio.create_task(stop_soon())
    await asyncio.wait_for(supervise(endpoints, [forever]), timeout=10)
    await stopper
    assert cancelled.is_set()


async def test_supervisor_fails_when_a_service_fails() -> None:
    endpoints = Endpoints(nats_url="nats://unused", database_url="postgresql://unused@x/y")

    async def broken(_: Endpoints) -> None:
        raise RuntimeError("boom")

    with pytest.raises(ServiceError, match=r"broken failed: RuntimeError\('boom'\)"):
        await asyncio.wait_for(supervise(endpoints, [broken]), timeout=10)


async def test_insecure_says_so_and_lets_anonymous_clients_in(tmp_path: Path) -> None:
    up = Up(tmp_path, "--insecure", "--services", "none")
    try:
        assert "--insecure: the embedded NATS runs WITHOUT authorization" in up.stderr()
        client = await nats.connect(up.endpoints.nats_url, allow_reconnect=False, connect_timeout=5)
        await client.close()
        run = endpoints.read(tmp_path)
        assert run is not None
        assert run.nats_passwords == {}
        up.process.send_signal(signal.SIGINT)
        assert up.process.wait(timeout=60) == 0, up.stderr()
    finally:
        up.end()


def nats_server_of(up: Up) -> int:
    (pid,) = [p.pid for p in up.tree() if Path(f"/proc/{p.pid}/exe").resolve().name == "nats-server"]
    return pid


def wait_for_line(up: Up, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in up.stderr() and time.monotonic() < deadline:
        time.sleep(0.1)


async def a_trip_reaches_the_executor_and_the_projection(database_url: str) -> bool:
    """Trip the latch as the risk service does (the breaker event, and pause and flatten commands); True
    once the executor service has applied the pause and the latch projection shows the halt."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        breach = Breach(Breaker.DRAWDOWN, 0.06, 0.05, "after the nats-server restart")
        assert await halt.trip(pool, Outbox(REGISTRY, Service.RISK), breach, ts_ms=1) is not None
        for _ in range(600):
            paused = await pool.fetchval("SELECT paused FROM trading.executor_controls WHERE id = 1")
            halted = await pool.fetchval("SELECT halted FROM trading.risk_state WHERE latch_id = 'global'")
            if paused and halted:
                return True
            await asyncio.sleep(0.05)
        return False
    finally:
        await pool.close()


async def test_a_killed_embedded_nats_server_is_restarted_and_the_platform_recovers(tmp_path: Path) -> None:
    up = Up(tmp_path)  # the drain, the projection runners and the five services
    try:
        os.kill(nats_server_of(up), signal.SIGKILL)
        wait_for_line(up, "nats-server restarted", timeout=60)
        assert "nats-server exited unexpectedly (code -9); restarting it on its port" in up.stderr()
        assert "nats-server restarted" in up.stderr(), up.stderr()
        # The drain, the history stream, a service's FastStream durable and a projection runner all work
        # again: a trip written after the restart is applied by the executor and folded into the view.
        assert await a_trip_reaches_the_executor_and_the_projection(up.endpoints.database_url), up.stderr()
        assert up.process.poll() is None, "the platform runs on"
        up.process.send_signal(signal.SIGINT)
        assert up.process.wait(timeout=60) == 0, up.stderr()
    finally:
        up.end()

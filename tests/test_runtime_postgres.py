"""The embedded PostgreSQL: runs unprivileged, keeps committed data through a crash, fails
clearly, and dies with its parent (PR_SET_PDEATHSIG survives the switch of user)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from gordon.runtime.account import server_account
from gordon.runtime.children import Account, spawn
from gordon.runtime.errors import ServerStartError
from gordon.runtime.postgres_server import EmbeddedPostgres
from gordon.runtime.proctree import alive, descendants


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """One embedded server shared by this module's tests (initdb costs about a second)."""
    with EmbeddedPostgres(tmp_path_factory.mktemp("embedded"), fsync=False) as running:
        yield running


def uid_of(pid: int) -> int:
    """The real uid of process `pid`."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for pid {pid}")


async def fetch_setting(dsn: str, name: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        value: str = await connection.fetchval(f"SHOW {name}")
        return value
    finally:
        await connection.close()


async def test_listens_on_loopback_with_test_settings(server: EmbeddedPostgres) -> None:
    dsn = server.dsn()
    assert dsn == f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
    assert await fetch_setting(dsn, "fsync") == "off"
    assert await fetch_setting(dsn, "synchronous_commit") == "on"
    assert await fetch_setting(dsn, "max_connections") == "200"
    assert await fetch_setting(dsn, "listen_addresses") == "127.0.0.1"
    assert await fetch_setting(dsn, "unix_socket_directories") == ""


def test_runs_as_an_unprivileged_user_when_we_are_root(server: EmbeddedPostgres) -> None:
    assert server.pid is not None
    account = server_account()
    expected = os.getuid() if account is None else account.uid
    assert uid_of(server.pid) == expected != 0


async def test_crash_then_start_keeps_committed_data(server: EmbeddedPostgres) -> None:
    dsn = server.dsn()
    connection = await asyncpg.connect(dsn)
    await connection.execute("CREATE TABLE IF NOT EXISTS survivors (n int)")
    await connection.execute("INSERT INTO survivors VALUES (42)")
    uncommitted = connection.transaction()
    await uncommitted.start()
    await connection.execute("INSERT INTO survivors VALUES (-1)")
    old_pid = server.pid
    server.crash()
    assert server.pid is None
    server.start()
    assert server.pid != old_pid
    assert server.dsn() == dsn, "a restart keeps the port, so clients can reconnect"
    again = await asyncpg.connect(dsn)
    try:
        assert [row["n"] for row in await again.fetch("SELECT n FROM survivors")] == [42]
    finally:
        await again.close()
        connection.terminate()


def test_stop_leaves_no_process(tmp_path: Path) -> None:
    own = EmbeddedPostgres(tmp_path, fsync=False).start()
    assert own.pid is not None
    postmaster = next(proc for proc in descendants(os.getpid()) if proc.pid == own.pid)
    backends = descendants(own.pid)
    assert backends, "a running postmaster has auxiliary processes"
    own.stop()
    assert own.pid is None
    assert [proc for proc in {postmaster, *backends} if alive(proc)] == []
    assert not (tmp_path / "postgres" / "postmaster.pid").exists()


def test_taken_port_fails_in_one_line_naming_the_log(server: EmbeddedPostgres, tmp_path: Path) -> None:
    before = descendants(os.getpid())
    second = EmbeddedPostgres(tmp_path, port=server.port, fsync=False)
    with pytest.raises(ServerStartError) as raised:
        second.start()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("postgres did not start: ")
    assert f"port {server.port} on 127.0.0.1 is already in use" in message
    assert message.endswith(f"(log: {tmp_path / 'postgres.log'})")
    assert second.pid is None
    assert [proc for proc in descendants(os.getpid()) - before if alive(proc)] == []


def test_bad_data_dir_fails_in_one_line(tmp_path: Path) -> None:
    pgdata = tmp_path / "postgres"
    pgdata.mkdir()
    (pgdata / "stray").write_text("not a cluster")  # initdb refuses a non-empty directory
    with pytest.raises(ServerStartError) as raised:
        EmbeddedPostgres(tmp_path, fsync=False).start()
    message = str(raised.value)
    assert "\n" not in message
    assert "initdb" in message
    assert str(tmp_path / "postgres.log") in message


@pytest.mark.parametrize("as_server_account", [False, True])
def test_death_signal_is_armed_after_the_user_switch(as_server_account: bool) -> None:
    """A child started by a thread gets SIGTERM when that thread ends (PDEATHSIG is per
    thread), also when it runs as another user: the uid switch would have cleared it."""
    account: Account | None = server_account() if as_server_account else None
    if as_server_account and account is None:
        pytest.skip("not root: servers run as ourselves, no user switch to check")
    spawned: list[subprocess.Popen[bytes]] = []
    checked = threading.Event()

    def start_then_end() -> None:
        log = Path(os.devnull)
        spawned.append(spawn(["sleep", "60"], log=log, death_signal=signal.SIGTERM, account=account))
        checked.wait(30)

    thread = threading.Thread(target=start_then_end)
    thread.start()
    try:
        for _ in range(500):
            if spawned:
                break
            time.sleep(0.01)
        (process,) = spawned
        assert uid_of(process.pid) == (account.uid if account else os.getuid())
        assert process.poll() is None, "alive while the thread that started it lives"
    finally:
        checked.set()
        thread.join()
    assert process.wait(timeout=10) == -signal.SIGTERM

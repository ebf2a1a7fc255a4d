"""`gordon manager`: a bad or taken port is one line and exit 1; a real process serves the API under
granian, prints its URL, and stops cleanly on SIGINT."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import requests

from gordon.cli import main
from gordon.platform import prepare_projections
from services.http_server import free_port

GORDON = Path(sys.executable).parent / "gordon"


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("70000", "gordon manager: --port: expected a port 0..65535, got '70000'"),
        ("http", "gordon manager: --port: expected a port 0..65535, got 'http'"),
    ],
)
def test_a_bad_port_is_one_line_and_exit_1(
    port: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["manager", "--port", port]) == 1
    assert capsys.readouterr().err == message + "\n"


def test_a_taken_port_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = [
            "manager",
            "--port",
            str(port),
            "--nats-url",
            "nats://127.0.0.1:1",
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/none",
        ]
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"gordon manager: cannot listen on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1


@pytest.mark.timeout(90)
async def test_the_process_serves_the_api_and_stops_on_sigint(
    database: str, nats_url: str, fresh_bus: Callable[[], Awaitable[None]], tmp_path: Path
) -> None:
    await fresh_bus()
    await prepare_projections(database)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GORDON_")}
    env |= {"GORDON_NATS_URL": nats_url, "GORDON_DATABASE_URL": database}
    err_path = tmp_path / "manager.err"
    with err_path.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            str(GORDON), "manager", "--port", str(port), env=env, stderr=err
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while f"manager API at {url}/" not in err_path.read_text():
            assert process.returncode is None, err_path.read_text()
            assert time.monotonic() < deadline, err_path.read_text()
            await asyncio.sleep(0.1)
        assert (
            "write endpoints (POST /risk/*) are disabled: GORDON_MANAGER_TOKEN is not set"
            in err_path.read_text()
        )
        r = await asyncio.to_thread(requests.get, url + "/orders", timeout=10)
        assert r.status_code == 200
        assert r.json() == {"items": [], "nextCursor": None}
        r = await asyncio.to_thread(requests.get, url + "/healthz", timeout=10)
        assert r.status_code == 503  # no drain runs here
        assert "drainLeader" in r.json()["failed"]
        assert "durable:manager-risk" not in r.json()["failed"]  # the service bound it
        r = await asyncio.to_thread(requests.post, url + "/risk/flatten", json={"reason": "x"}, timeout=10)
        assert r.status_code == 503
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            assert await process.wait() == 0, err_path.read_text()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_unreachable_servers_are_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "manager",
        "--port",
        "0",
        "--nats-url",
        "nats://127.0.0.1:1",
        "--database-url",
        "postgresql://x@127.0.0.1:1/x",
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("gordon manager: the manager did not start: ")
    assert err.count("\n") == 1

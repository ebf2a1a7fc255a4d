"""`gordon docs`: bad arguments fail with one line and exit 1; a real run serves the page and stops on
SIGINT with exit 0."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import pytest

from gordon.cli import main
from gordon.paths import ROOT
from services.http_server import free_port

from .client import Reply, fetch

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "abc"], "--port: expected a port 1..65535, got 'abc'"),
        (["--port", "0"], "--port: expected a port 1..65535, got '0'"),
        (["--port", "65536"], "--port: expected a port 1..65535, got '65536'"),
        (["--port", "-5"], "--port: expected a port 1..65535, got '-5'"),
        (["--host", "no-such-host.invalid"], "cannot listen on no-such-host.invalid:"),
    ],
)
def test_bad_address_is_one_line_and_exit_1(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["docs", *argv]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"gordon docs: {message}")
    assert captured.err.count("\n") == 1


def test_taken_port_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["docs", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"gordon docs: cannot listen on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1


@pytest.mark.timeout(120)
async def test_serves_the_page_alone_and_stops_on_sigint() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gordon", "docs", "--port", str(port),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "GORDON_NATS_URL": "nats://127.0.0.1:1", "GORDON_DATABASE_URL": ""},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), STARTUP_TIMEOUT)
        page = f"http://127.0.0.1:{port}/docs/asyncapi"
        assert line.decode().strip() == f"gordon docs: serving {page} (Ctrl-C stops)"
        reply = await _when_listening(page)
        assert reply.status == 200
        assert b"asyncapi.yaml" in reply.body
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), STOP_TIMEOUT) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _when_listening(url: str) -> Reply:
    """The first reply from `url`, retrying while the server binds (the line prints just before)."""
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
    while True:
        try:
            return await fetch(url)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)

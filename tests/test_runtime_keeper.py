"""The embedded-server keeper: restarts a server that exits, stops the platform when one keeps exiting."""

from __future__ import annotations

import asyncio

import pytest

from gordon.runtime.keeper import MAX_RESTARTS, ServerLost, keep_running


class Flaky:
    """A server that exits `deaths` times (or forever with None), restarting each time it is started."""

    def __init__(self, deaths: int | None, *, start_fails: bool = False) -> None:
        self.deaths = deaths
        self.start_fails = start_fails
        self.starts = 0
        self.running = False

    def returncode(self) -> int | None:
        if self.running and (self.deaths is None or self.starts < self.deaths):
            return 1
        return None

    def stop(self) -> None:
        self.running = False

    def start(self) -> object:
        if self.start_fails:
            raise RuntimeError("port 4222 on 127.0.0.1 is already in use")
        self.starts += 1
        self.running = True
        return self


async def test_a_server_that_exits_is_restarted_and_said() -> None:
    server, lines = Flaky(deaths=2), []
    server.running = True
    task = asyncio.create_task(
        keep_running([("nats-server", server)], lines.append, poll_s=0.001, first_backoff_s=0)
    )
    for _ in range(1000):
        if server.starts == 2 and server.returncode() is None:
            break
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert server.starts == 2
    assert lines.count("nats-server restarted") == 2
    assert "nats-server exited unexpectedly (code 1)" in lines[0]


async def test_a_server_that_keeps_exiting_stops_the_platform_with_one_line() -> None:
    server = Flaky(deaths=None)
    server.running = True
    with pytest.raises(ServerLost) as lost:
        await keep_running([("postgres", server)], lambda _: None, poll_s=0.001, first_backoff_s=0)
    assert server.starts == MAX_RESTARTS
    assert str(lost.value).startswith(f"postgres exited {MAX_RESTARTS + 1} times within")
    assert "\n" not in str(lost.value)


async def test_a_server_that_cannot_start_again_stops_the_platform() -> None:
    server = Flaky(deaths=None, start_fails=True)
    server.running = True
    with pytest.raises(ServerLost, match="nats-server could not be restarted: port 4222"):
        await keep_running([("nats-server", server)], lambda _: None, poll_s=0.001, first_backoff_s=0)

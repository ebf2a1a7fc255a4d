"""The embedded nats-server: starts on a free port, keeps JetStream data, stops without leftovers."""

from __future__ import annotations

import os
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig

from gordon.runtime.errors import ServerStartError
from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.proctree import Proc, alive, descendants


def our_process(pid: int) -> Proc:
    """The child process `pid` of this test process."""
    return next(proc for proc in descendants(os.getpid()) if proc.pid == pid)


async def test_starts_serves_jetstream_and_stops_without_leftovers(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path).start()
    try:
        assert server.pid is not None
        process = our_process(server.pid)
        assert server.url.startswith("nats://127.0.0.1:")
        client = await nats.connect(server.url)
        info = await client.jetstream().account_info()
        await client.close()
        assert info.limits is not None
        assert (tmp_path / "nats.log").stat().st_size > 0
    finally:
        server.stop()
    assert server.pid is None
    assert not alive(process)


async def test_restart_keeps_port_and_streams(tmp_path: Path) -> None:
    with EmbeddedNats(tmp_path) as server:
        url = server.url
        client = await nats.connect(url)
        await client.jetstream().add_stream(StreamConfig(name="kept", subjects=["kept.>"]))
        await client.jetstream().publish("kept.one", b"1")
        await client.close()
    with server.start() as again:
        assert again.url == url
        client = await nats.connect(again.url)
        info = await client.jetstream().stream_info("kept")
        await client.close()
    assert info.state.messages == 1


def test_taken_port_fails_in_one_line_naming_the_log(tmp_path: Path) -> None:
    with EmbeddedNats(tmp_path / "first") as first:
        before = descendants(os.getpid())
        second = EmbeddedNats(tmp_path / "second", port=first.port)
        with pytest.raises(ServerStartError) as raised:
            second.start()
        message = str(raised.value)
        assert "\n" not in message
        assert message.startswith("nats-server did not start: ")
        assert f"port {first.port} on 127.0.0.1 is already in use" in message
        assert str(tmp_path / "second" / "nats.log") in message
        assert second.pid is None
        assert [proc for proc in descendants(os.getpid()) - before if alive(proc)] == []


def test_unusable_data_dir_fails_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the store directory should go")
    with pytest.raises(ServerStartError) as raised:
        EmbeddedNats(blocker).start()
    assert "\n" not in str(raised.value)
    assert str(blocker / "nats.log") in str(raised.value)

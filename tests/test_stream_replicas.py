"""GORDON_STREAM_REPLICAS reaches the streams `gordon up` prepares; a count the server cannot place is
one line naming the variable. A single node can hold only replicas=1, so 3 shows the refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from gordon.cli import main
from gordon.platform import StreamReplicasError, prepare_streams
from gordon.runtime.nats_server import EmbeddedNats
from schemas import REGISTRY

NAMES = [spec.name for spec in REGISTRY.streams]


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A single-node server of this module's own: prepare_streams makes the real, undeletable streams."""
    with EmbeddedNats(tmp_path_factory.mktemp("replicas-nats")) as server:
        yield server.url


async def replica_counts(url: str) -> dict[str, int]:
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        return {name: (await js.stream_info(name)).config.num_replicas or 0 for name in NAMES}
    finally:
        await client.close()


async def test_replicas_1_is_applied_to_every_stream(own_nats: str) -> None:
    outcome = await prepare_streams(own_nats, 1)
    assert list(outcome) == NAMES
    assert await replica_counts(own_nats) == dict.fromkeys(NAMES, 1)
    assert await prepare_streams(own_nats, 1) == dict.fromkeys(NAMES, "unchanged")
    assert await prepare_streams(own_nats) == dict.fromkeys(NAMES, "unchanged")


async def test_replicas_beyond_the_cluster_is_one_line_naming_the_variable(own_nats: str) -> None:
    await prepare_streams(own_nats)
    with pytest.raises(StreamReplicasError) as raised:
        await prepare_streams(own_nats, 3)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"GORDON_STREAM_REPLICAS=3: nats-server refused stream {NAMES[0]}: ")
    assert "cluster" in message
    assert await replica_counts(own_nats) == dict.fromkeys(NAMES, 1)


def test_gordon_up_passes_the_setting_and_stops_in_one_line(
    own_nats: str,
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GORDON_NATS_URL", own_nats)
    monkeypatch.setenv("GORDON_DATABASE_URL", database)
    monkeypatch.setenv("GORDON_STREAM_REPLICAS", "3")
    assert main(["up", "--no-view"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    refusals = [line for line in captured.err.splitlines() if "GORDON_STREAM_REPLICAS" in line]
    assert len(refusals) == 1
    assert refusals[0].startswith("gordon up: GORDON_STREAM_REPLICAS=3: nats-server refused stream ")

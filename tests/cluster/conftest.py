"""The 3-node cluster every test here runs on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gordon.runtime.nats_cluster import NatsCluster
from tests.cluster.leaders import REPLICAS


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    with NatsCluster(tmp_path / "cluster", size=REPLICAS) as started:
        started.wait_for_meta_leader(60)
        yield started

"""Throwaway servers for one benchmark run: embedded NATS and PostgreSQL in a temp dir, migrated, with
the platform's streams. Never the machine's standing servers, so a run cannot disturb (or be disturbed by)
anything else."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nats

from gordon.migrate import upgrade
from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.postgres_server import EmbeddedPostgres
from registry.streams import ensure_streams
from schemas import REGISTRY


@dataclass(frozen=True)
class BenchServers:
    """URLs of the run's servers (superuser DSN of a migrated database) and where their data lives."""

    nats_url: str
    dsn: str
    data_dir: Path
    nats_pid: int | None = None
    postgres_pid: int | None = None


async def create_streams(nats_url: str) -> None:
    """Apply the registry's streams (gordon-bus, gordon-history, gordon-dlq) to the server."""
    client = await nats.connect(nats_url)
    try:
        await ensure_streams(client.jetstream(), REGISTRY.streams)
    finally:
        await client.close()


@contextmanager
def bench_servers(*, fsync: bool = True) -> Iterator[BenchServers]:
    """Start both servers (fsync on by default: commits cost what they cost in production), migrate the
    `postgres` database to head, create the streams; everything is deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="gordon-bench-") as tmp:
        data_dir = Path(tmp)
        with EmbeddedNats(data_dir) as nats_server, EmbeddedPostgres(data_dir, fsync=fsync) as postgres:
            dsn = postgres.dsn()
            upgrade(dsn)
            asyncio.run(create_streams(nats_server.url))
            yield BenchServers(
                nats_url=nats_server.url,
                dsn=dsn,
                data_dir=data_dir,
                nats_pid=nats_server.pid,
                postgres_pid=postgres.pid,
            )

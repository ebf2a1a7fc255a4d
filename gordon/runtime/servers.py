"""The NATS and database URLs to use: the configured ones, or embedded servers started for
the ones left unset, with their data kept under GORDON_DATA_DIR across runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.postgres_server import EmbeddedPostgres
from settings.environment import Settings


@dataclass(frozen=True)
class Endpoints:
    """Where the servers are: a nats:// URL and a superuser postgresql:// URL."""

    nats_url: str
    database_url: str


@contextmanager
def running_servers(settings: Settings) -> Iterator[Endpoints]:
    """Yield the endpoints, starting an embedded server for each URL that is unset and
    stopping it on exit. Call it from the main thread (see gordon.runtime.children)."""
    with ExitStack() as stack:
        database_url = settings.database_url
        if database_url is None:
            postgres = stack.enter_context(EmbeddedPostgres(settings.data_dir))
            database_url = postgres.dsn()
        nats_url = settings.nats_url
        if nats_url is None:
            nats_url = stack.enter_context(EmbeddedNats(settings.data_dir)).url
        yield Endpoints(nats_url=nats_url, database_url=database_url)

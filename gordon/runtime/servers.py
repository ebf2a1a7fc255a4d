"""The NATS and database URLs to use: the configured ones, or embedded servers started for
the ones left unset, with their data kept under GORDON_DATA_DIR across runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gordon import nats_auth
from gordon.runtime.keeper import Server
from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.postgres_server import EmbeddedPostgres
from schemas import REGISTRY
from settings import nats_login
from settings.environment import Settings

AUTH_CONFIG = "nats-auth.conf"
"""The authorization block an embedded server runs with, written under the data directory each start."""


@dataclass(frozen=True)
class Endpoints:
    """Where the servers are: a nats:// URL and a superuser postgresql:// URL, and the NATS passwords
    generated for an embedded server run with authorization (empty: anonymous logins)."""

    nats_url: str
    database_url: str
    nats_passwords: dict[str, str] = field(default_factory=dict)
    embedded: tuple[tuple[str, Server], ...] = ()
    """The servers started here, by name, for `gordon.runtime.keeper` to keep running."""


@contextmanager
def running_servers(settings: Settings, *, secure: bool = True) -> Iterator[Endpoints]:
    """Yield the endpoints, starting an embedded server for each URL that is unset and
    stopping it on exit. Call it from the main thread (see gordon.runtime.children).

    An embedded nats-server runs, when `secure`, with the registry's authorization and a password per
    user generated for this run, exported as each user's GORDON_NATS_PASSWORD_<USER> so every part of
    this process logs in as its own user."""
    with ExitStack() as stack:
        embedded: list[tuple[str, Server]] = []
        database_url = settings.database_url
        if database_url is None:
            postgres = stack.enter_context(EmbeddedPostgres(settings.data_dir))
            embedded.append(("postgres", postgres))
            database_url = postgres.dsn()
        nats_url = settings.nats_url
        passwords: dict[str, str] = {}
        if nats_url is None:
            config = None
            if secure:
                passwords = {user: nats_login.new_password() for user in nats_login.USERS}
                for user, password in passwords.items():
                    os.environ[nats_login.password_env(user)] = password
                config = _auth_config(settings.data_dir)
            nats = stack.enter_context(EmbeddedNats(settings.data_dir, config=config))
            embedded.append(("nats-server", nats))
            nats_url = nats.url
        yield Endpoints(nats_url, database_url, passwords, tuple(embedded))


def _auth_config(data_dir: Path) -> Path:
    """The registry's authorization block as a config file; passwords stay environment references."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / AUTH_CONFIG
    config.write_text(nats_auth.render(REGISTRY))
    return config

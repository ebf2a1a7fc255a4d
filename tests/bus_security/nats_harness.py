"""A nats-server started with the generated authorization config, and clients that log in as its users."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats as nats_py
from nats.aio.client import Client as NatsClient

from registry.subject import ConsumerSpec, Subject
from settings import nats_login
from tests.bus_security.samples import sample_values


@dataclass
class Login:
    """A connected client of one user, and every asynchronous error the server sent it."""

    user: str
    client: NatsClient
    errors: list[str] = field(default_factory=list)

    async def violation(self, fragment: str, seconds: float = 10.0) -> str:
        """The permissions violation naming `fragment` (case-insensitive), waiting for it to arrive."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            for error in self.errors:
                if "permissions violation" in error.lower() and fragment.lower() in error.lower():
                    return error
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.user}: no permissions violation for {fragment!r}; errors: {self.errors}")

    def violations(self) -> list[str]:
        return [e for e in self.errors if "permissions violation" in e.lower()]


@dataclass(frozen=True)
class AuthServer:
    """The server's URL and each user's password (as the environment gave them to it)."""

    url: str
    passwords: dict[str, str]
    config: Path

    def env(self) -> dict[str, str]:
        return {nats_login.password_env(user): password for user, password in self.passwords.items()}

    async def login(self, user: str) -> Login:
        """Connect as `user` with the options services use (`nats_login.connect_options`)."""
        login = Login(user, NatsClient())

        async def on_error(error: Exception) -> None:
            login.errors.append(str(error))

        options = nats_login.connect_options(user, self.env())
        login.client = await nats_py.connect(
            self.url, error_cb=on_error, allow_reconnect=False, connect_timeout=5, **options
        )
        return login


def durable_values(subject: Subject[Any], spec: ConsumerSpec) -> dict[str, str]:
    """Values for a durable's bound subject parameters and instance parameters."""
    values = {name: sample_values(subject)[name] for name in spec.binds}
    for param in spec.instance:
        values[param.name] = param.examples[0] if param.examples else "x1"
    return values


@contextlib.asynccontextmanager
async def logged_in(server: AuthServer, user: str) -> AsyncIterator[Login]:
    login = await server.login(user)
    try:
        yield login
    finally:
        await login.client.close()

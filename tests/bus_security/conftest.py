"""Fixtures of the bus security tests: a nats-server started with the generated authorization config."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest
from nats.js.errors import NotFoundError

from gordon import nats_auth
from gordon.runtime.nats_server import EmbeddedNats
from schemas import REGISTRY
from settings import nats_login
from tests.bus_security.nats_harness import AuthServer, Login
from tests.conftest import small_spec


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    """A nats-server (JetStream on) whose authorization block is `gordon nats-auth`'s output."""
    data_dir = tmp_path_factory.mktemp("nats_auth")
    config = data_dir / "auth.conf"
    config.write_text(nats_auth.render(REGISTRY))
    passwords = {user: nats_login.new_password() for user in nats_login.USERS}
    with pytest.MonkeyPatch.context() as patch:
        for user, password in passwords.items():
            patch.setenv(nats_login.password_env(user), password)
        server = EmbeddedNats(data_dir, config=config).start()  # resolves the passwords at start
    try:
        yield AuthServer(server.url, passwords, config)
    finally:
        server.stop()


@pytest.fixture
async def admin(auth_server: AuthServer) -> AsyncIterator[Login]:
    """The unrestricted user, with the three streams deleted and created afresh."""
    login = await auth_server.login(nats_login.ADMIN)
    js = login.client.jetstream()
    # One stream at a time, like fresh_bus: with every stream deleted, nats-server removes the account's
    # store folder in the background, and a create racing that fails (10049: could not create storage).
    for spec in REGISTRY.streams:
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(spec.name)
        await js.add_stream(small_spec(spec).config())
    try:
        yield login
    finally:
        await login.client.close()

"""Each part of the platform logs in as its own NATS user when its password is in the environment:
the services' FastStream broker, the drain's and projector's clients."""

from __future__ import annotations

import pytest

from producers.drain.runner import connect_nats
from registry.subject import Service
from schemas import REGISTRY
from services.runtime import service_app
from settings import nats_login
from tests.bus_security.nats_harness import AuthServer, Login
from tests.bus_security.samples import SAMPLES

UNUSED_DATABASE = "postgresql://nobody@127.0.0.1:1/none"  # the broker alone is started here


def with_passwords(monkeypatch: pytest.MonkeyPatch, server: AuthServer) -> None:
    for variable, password in server.env().items():
        monkeypatch.setenv(variable, password)


@pytest.mark.parametrize("service", list(Service))
async def test_a_service_broker_logs_in_as_the_service_with_its_own_inbox(
    service: Service, auth_server: AuthServer, admin: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_passwords(monkeypatch, auth_server)
    _, broker, _ = service_app(service, nats_url=auth_server.url, database_url=UNUSED_DATABASE)
    own = next(concrete for subject, concrete in SAMPLES if subject.producer is service)
    async with broker:
        await broker.connect()
        # The ack comes back on the service's own inbox: the only one it may subscribe to.
        ack = await broker.connection.jetstream(timeout=5).publish(own, b"{}")
    assert ack.stream == REGISTRY.bus.name


async def test_without_its_password_a_service_cannot_connect(
    auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(nats_login.password_env("bot"), raising=False)
    _, broker, _ = service_app(Service.BOT, nats_url=auth_server.url, database_url=UNUSED_DATABASE)
    with pytest.raises(Exception, match="Authorization Violation"):
        async with broker:
            await broker.connect()


async def test_a_password_nats_server_would_misread_is_refused_with_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(nats_login.password_env("risk"), "1234567890123456789")
    with pytest.raises(nats_login.NatsAuthError, match="GORDON_NATS_PASSWORD_RISK"):
        service_app(Service.RISK, nats_url="nats://127.0.0.1:1", database_url=UNUSED_DATABASE)


@pytest.mark.parametrize("user", [nats_login.DRAIN, nats_login.PROJECTOR, nats_login.ADMIN])
async def test_platform_clients_log_in_as_their_user(
    user: str, auth_server: AuthServer, admin: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_passwords(monkeypatch, auth_server)
    client = await connect_nats(auth_server.url, f"test-{user}", user)
    try:
        js = client.jetstream(timeout=5)
        if user == nats_login.PROJECTOR:  # reads history only; it may not even look at the bus
            assert (await js.stream_info(REGISTRY.history.name)).config.name == REGISTRY.history.name
        else:
            ack = await js.publish(SAMPLES[0][1], b"{}", stream=REGISTRY.bus.name)
            assert ack.stream == REGISTRY.bus.name
    finally:
        await client.close()

"""/healthz on a nats-server with the generated authorization: the API logs in as the manager's NATS
user and every check passes on what that user may read (no check needs another service's rights)."""

from __future__ import annotations

import asyncio

import pytest
import requests

from gordon.platform import prepare_projections
from producers.drain.runner import run_drain
from services.http_server import free_port
from services.manager.api import ApiDeps, create_app
from services.manager.api.serve import ApiServer
from services.manager.service import build as build_manager
from settings import nats_login
from tests.bus_security.conftest import admin, auth_server  # noqa: F401 - fixtures of the auth server
from tests.bus_security.nats_harness import AuthServer, Login
from tests.manager_api.conftest import TOKEN
from tests.manager_api.helpers import fetch
from tests.manager_api.test_health import FAST
from tests.waiting import eventually


@pytest.mark.timeout(90)
async def test_every_check_passes_as_the_manager_user(
    auth_server: AuthServer,  # noqa: F811
    admin: Login,  # noqa: F811
    database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for user in ("manager", nats_login.DRAIN):
        monkeypatch.setenv(nats_login.password_env(user), auth_server.passwords[user])
    await prepare_projections(database)
    stop = asyncio.Event()
    drain = asyncio.create_task(run_drain(auth_server.url, database, stop, FAST))
    manager = build_manager(nats_url=auth_server.url, database_url=database)
    await manager.app.start()
    server = ApiServer(create_app(ApiDeps(database, auth_server.url, token=TOKEN)), port=free_port())
    try:

        async def leading() -> bool:
            return bool(
                await fetch(database, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted")
            )

        await eventually(leading, "the drain to lead")
        await server.start()
        r = await asyncio.to_thread(requests.get, server.url + "/healthz", timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["failed"] == []
        assert "projection:orders" in r.json()["checks"]
    finally:
        await server.stop()
        stop.set()
        await asyncio.wait({drain}, timeout=20)
        await manager.app.stop()

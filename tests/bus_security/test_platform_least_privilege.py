"""The whole platform trading under least privilege on both sides: every service as its own Postgres role
(row-level security on the outbox) and its own NATS user on a server started with the generated config."""

from __future__ import annotations

import asyncpg
import pytest

from tests.bus_security.nats_harness import AuthServer, Login
from tests.services.platform_harness import Options, Platform, count, projections_match, until
from tests.services.test_platform_e2e import PLACED, quiesce

pytestmark = pytest.mark.slow


@pytest.mark.timeout(240)
async def test_the_platform_trades_with_every_part_logged_in_as_itself(
    database: str, auth_server: AuthServer, admin: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, password in auth_server.env().items():
        monkeypatch.setenv(variable, password)
    owner = await asyncpg.connect(database)
    platform = Platform(auth_server.url, database, Options())
    try:
        await platform.start()
        await until(lambda: _at_least(owner, PLACED, 4), "orders placed by the bots", 90, platform)
        await quiesce(platform, owner, admin.client.jetstream())
        assert await projections_match(owner)
        assert await count(owner, PLACED) >= 4
    finally:
        await platform.stop()
        await owner.close()


async def _at_least(owner: asyncpg.Connection, query: str, n: int) -> bool:
    return await count(owner, query) >= n

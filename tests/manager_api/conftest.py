"""The manager API on real servers: a migrated database with live projection generations, fresh streams,
and the app served by granian on a free port; requests go over HTTP (requests, in a thread)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from gordon.platform import prepare_projections
from services.http_server import free_port
from services.manager.api import ApiDeps, create_app
from services.manager.api.serve import ApiServer

TOKEN = "test-token-0123456789"


@dataclass
class Api:
    """A served app and a tiny client for it."""

    server: ApiServer
    deps: ApiDeps
    session: requests.Session

    @property
    def url(self) -> str:
        return self.server.url

    async def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return await asyncio.to_thread(self.session.request, method, self.url + path, timeout=30, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> requests.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> requests.Response:
        return await self.request("POST", path, **kwargs)


ServeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def serve_api(
    database: str, nats_url: str, fresh_bus: Callable[[], Awaitable[None]]
) -> AsyncIterator[ServeApi]:
    """`await serve_api(token=..., **deps)`: fresh streams, live projections, the app under granian."""
    await fresh_bus()
    await prepare_projections(database)
    servers: list[Api] = []

    async def serve(**overrides: Any) -> Api:
        deps = ApiDeps(database_url=database, nats_url=nats_url, **{"token": TOKEN, **overrides})
        server = ApiServer(create_app(deps), port=free_port())
        await server.start()
        api = Api(server, deps, requests.Session())
        servers.append(api)
        return api

    try:
        yield serve
    finally:
        for api in servers:
            api.session.close()
            await api.server.stop()


@pytest.fixture
async def api(serve_api: ServeApi) -> Api:
    """The app with the test token configured."""
    return await serve_api()

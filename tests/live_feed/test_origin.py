"""/ws refuses a handshake from another site's page: WebSockets are not bound by CORS, so without the
Origin check any page the operator opened could read fills, orders and breaker events. A page of the
API's own origin, and a client that sends no Origin (not a browser), get the feed as before."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed, InvalidStatus

from services.manager.api.live import live_router
from services.manager.api.live.router import same_origin
from tests.browser.serving import serve_asgi_app
from tests.live_feed.feed import connect, receive


async def test_a_cross_site_handshake_is_refused_and_a_same_origin_one_is_served() -> None:
    app = FastAPI()
    app.include_router(live_router(None))
    async with serve_asgi_app(app) as base:
        ws_url = base.replace("http://", "ws://") + "/ws"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url, origin="http://evil.example"):
                pass
        async with connect(ws_url, origin=base) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws, 1)
    assert refused.value.response.status_code == 403
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1013  # accepted: this app runs no feed


def test_same_origin_compares_host_and_port() -> None:
    assert same_origin(None, "127.0.0.1:8080")
    assert same_origin("http://127.0.0.1:8080", "127.0.0.1:8080")
    assert same_origin("https://Gordon.example", "gordon.example")
    assert not same_origin("http://127.0.0.1:9999", "127.0.0.1:8080")
    assert not same_origin("http://evil.example", "127.0.0.1:8080")
    assert not same_origin("null", "127.0.0.1:8080")
    assert not same_origin("http://127.0.0.1:8080", None)

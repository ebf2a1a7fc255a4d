"""The live routes without a feed behind them: /ws says the feed does not run in this process (1013),
and the operator page and its two assets are served with their content types and no external reference."""

from __future__ import annotations

import asyncio
import re
import urllib.request

import pytest
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed

from services.manager.api.live import live_router
from services.manager.api.live.hub import BadSince
from services.manager.api.live.router import clip, parse_since
from tests.browser.serving import serve_asgi_app
from tests.live_feed.feed import connect, receive


def get(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["content-type"], response.read().decode()


async def test_without_a_feed_ws_closes_with_1013_and_the_page_is_still_served() -> None:
    app = FastAPI()
    app.include_router(live_router(None))
    async with serve_asgi_app(app) as base:
        async with connect(base.replace("http://", "ws://") + "/ws") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws, 1)
        page = await asyncio.to_thread(get, f"{base}/")
        script = await asyncio.to_thread(get, f"{base}/operator/app.js")
        style = await asyncio.to_thread(get, f"{base}/operator/style.css")
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1013
    assert "does not run in this process" in closed.value.rcvd.reason
    assert page[0].startswith("text/html")
    assert script[0].startswith("text/javascript")
    assert style[0].startswith("text/css")
    for _, body in (page, script, style):
        # nothing is loaded from elsewhere; a plain link (<a href>, the chart library's credit) is not a load
        assert not re.search(r"src=\"(?:https?:)?//", body), "an external script or image"
        assert not re.search(r"<link[^>]*href=\"(?:https?:)?//", body), "an external stylesheet"
        assert re.findall(r"<a href=\"(https?://[^\"]*)\"", body) in ([], ["https://www.tradingview.com/"])
        assert "@import" not in body
    assert "/ws" in script[1]
    assert "since" in script[1]


def test_since_is_a_non_negative_integer_and_close_reasons_fit_the_protocol() -> None:
    assert parse_since(None) is None
    assert parse_since("0") == 0
    assert parse_since("123") == 123
    for bad in ("", "-1", "1.5", "1e3", "٣", "9" * 20, " 1"):
        with pytest.raises(BadSince):
            parse_since(bad)
    long = "é" * 200
    assert len(clip(long).encode()) <= 123
    assert clip("short") == "short"

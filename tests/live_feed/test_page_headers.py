"""The operator page (which holds the operator's bearer token) is served with a Content-Security-Policy
that runs only this origin's script, allows no inline script and forbids framing (clickjacking)."""

from __future__ import annotations

import asyncio
import urllib.request
from email.message import Message

from fastapi import FastAPI

from services.manager.api.live import live_router
from tests.browser.serving import serve_asgi_app


def headers_of(url: str) -> Message:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers


async def test_the_operator_page_carries_a_restrictive_content_security_policy() -> None:
    app = FastAPI()
    app.include_router(live_router(None))
    async with serve_asgi_app(app) as base:
        headers = await asyncio.to_thread(headers_of, f"{base}/")
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in headers["content-security-policy"].split(";")
        if directive.strip()
    }
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"

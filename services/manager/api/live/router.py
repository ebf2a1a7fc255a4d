"""The live feed's routes: `WS /ws?since=SEQ` and the operator page at `/` (static files, no build step,
and the vendored chart library under its versioned URL).

Close codes: 4400 bad `since` (malformed, or ahead of the feed); 4410 what the client missed is gone
from the stream or over the replay limit (reload the state over REST, reconnect without since);
4008 slow consumer (its queue filled); 1001 the server is shutting down; 1011 the feed is unavailable.
A handshake whose Origin is another site's is refused (HTTP 403) before any message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request, Response, WebSocket
from fastapi.responses import FileResponse

from services.manager.api import charts
from services.manager.api.docs.assets import IMMUTABLE, file_asset
from services.manager.api.live.client import CLIENT_LEFT, SLOW_CONSUMER, Subscription
from services.manager.api.live.hub import AHEAD, BadSince, LiveHub

log = logging.getLogger("gordon.manager.live")

SLOW = 4008
UNAVAILABLE = 1011
GOING_AWAY = 1001
TRY_LATER = 1013
POLICY = 1008
CLOSE_TIMEOUT_S = 10.0
"""How long a dropped client gets to read what its socket holds and the close frame; nothing of it is
queued in the hub meanwhile."""
MAX_REASON_BYTES = 123
"""The WebSocket protocol's limit on a close reason."""

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {
    "app.js": "text/javascript",
    "format.js": "text/javascript",
    "charts.js": "text/javascript",
    "style.css": "text/css",
}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""The operator page holds the bearer token: only this origin's script runs, nobody may frame it."""


def parse_since(raw: str | None) -> int | None:
    """The `since` query parameter: None when absent, else a stream sequence (a non-negative integer)."""
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        raise BadSince(AHEAD, f"since must be a stream sequence (a non-negative integer), got {raw[:40]!r}")
    return int(raw)


def clip(reason: str) -> str:
    """`reason` cut to the protocol's 123 bytes."""
    data = reason.encode()
    if len(data) <= MAX_REASON_BYTES:
        return reason
    return data[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether a /ws handshake may proceed. WebSockets are not bound by CORS, so without this any page the
    operator opens could read the feed; browsers always send Origin, other clients may send none."""
    if origin is None:
        return True
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()


def live_router(hub: LiveHub | None) -> APIRouter:
    """`/ws` over `hub` (None: the feed does not run in this process; /ws says so) and the operator page."""
    router = APIRouter()

    @router.websocket("/ws")
    async def feed(websocket: WebSocket) -> None:
        if not same_origin(websocket.headers.get("origin"), websocket.headers.get("host")):
            await websocket.close(POLICY)  # before accept: the handshake is refused with 403
            return
        await websocket.accept()
        if hub is None:
            await websocket.close(TRY_LATER, "the live feed does not run in this process")
            return
        try:
            client = await hub.subscribe(parse_since(websocket.query_params.get("since")))
        except BadSince as exc:
            await websocket.close(exc.code, clip(exc.reason))
            return
        except Exception as exc:
            log.warning("live feed: cannot subscribe: %r", exc)
            await websocket.close(UNAVAILABLE, clip(f"live feed unavailable: {exc!r}"))
            return
        try:
            await _serve(websocket, client)
        finally:
            client.drop(CLIENT_LEFT)

    @router.get("/", include_in_schema=False)
    async def operator_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)

    @router.get("/operator/{name}", include_in_schema=False)
    async def operator_file(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(
                404, f"no operator page file {name!r}; there are: {', '.join(sorted(ASSETS))}"
            )
        return FileResponse(STATIC / name, media_type=ASSETS[name])

    chart_files = {name: file_asset(charts.VENDOR_DIR / name, IMMUTABLE) for name in charts.SERVED}

    @router.api_route(charts.URL_PREFIX + "/{name}", methods=["GET", "HEAD"], include_in_schema=False)
    async def chart_library(request: Request, name: str) -> Response:
        """The vendored lightweight-charts bundle and its licence."""
        if name not in chart_files:
            known = ", ".join(sorted(chart_files))
            raise HTTPException(
                404, f"no {charts.PACKAGE} {charts.VERSION} file {name!r}; there are: {known}"
            )
        return await chart_files[name].respond(request)

    return router


async def _serve(websocket: WebSocket, client: Subscription) -> None:
    """Send the client's messages until it leaves, is dropped, or its replay fails; then close."""

    async def send() -> None:
        async for message in client.messages():
            await websocket.send_text(message.text)

    async def receive() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # the feed takes no input; reading is how a disconnect is seen

    sender = asyncio.create_task(send())
    receiver = asyncio.create_task(receive())
    gone = asyncio.create_task(client.gone())
    tasks = (sender, receiver, gone)
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if receiver in done:
        return  # the client closed
    code, reason = GOING_AWAY, "closed"
    if gone in done and not gone.cancelled():
        why = gone.result()
        code = SLOW if why == SLOW_CONSUMER else GOING_AWAY
        reason = f"{why}: more than {client.limit} messages queued" if why == SLOW_CONSUMER else why
    elif sender in done and not sender.cancelled() and sender.exception() is not None:
        log.warning("live feed: sending failed: %r", sender.exception())
        code, reason = UNAVAILABLE, f"feed failed: {sender.exception()!r}"
    with contextlib.suppress(Exception):
        await asyncio.wait_for(websocket.close(code, clip(reason)), CLOSE_TIMEOUT_S)

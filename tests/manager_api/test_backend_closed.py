"""A request that arrives while the API's connections are not open (before the lifespan opened them, or
after shutdown closed them) gets a 503 saying so, not a 500 from a missing attribute."""

from __future__ import annotations

import json
from typing import Any

from consumers.manager.api import ApiDeps, create_app


async def call(app: Any, path: str) -> tuple[int, dict[str, Any]]:
    """One GET through the ASGI app with no lifespan run; status and JSON body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(status), json.loads(body)


async def test_reads_before_the_connections_open_and_after_they_close_are_503() -> None:
    app = create_app(ApiDeps(database_url="postgresql://unused/db", nats_url="nats://127.0.0.1:1"))
    status, body = await call(app, "/positions")  # the lifespan never ran: no backend yet
    assert status == 503
    assert "starting or stopping" in body["detail"]
    app.state.backend = None  # what the lifespan leaves after shutdown
    status, body = await call(app, "/orders")
    assert status == 503
    assert "starting or stopping" in body["detail"]

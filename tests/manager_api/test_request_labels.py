"""The request counter's labels stay bounded whatever a client sends: an unknown HTTP method (any token
is a valid method on the wire) counts as "other", so random methods cannot grow the metric registry.
No backend is needed: the request never reaches a route, only the counting middleware, so the app is
called as ASGI directly (its lifespan, which opens the connections, never runs)."""

from __future__ import annotations

from typing import Any

from consumers.manager.api import ApiDeps, create_app
from consumers.manager.api.metrics import REQUESTS


def methods_counted() -> set[str]:
    return {
        sample.labels["method"]
        for family in REQUESTS.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    }


async def status_of(app: Any, method: str, path: str) -> int:
    """Call the ASGI app with one bodiless request; the response's status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
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
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


async def test_an_unknown_method_is_counted_as_other_not_by_its_name() -> None:
    app = create_app(ApiDeps(database_url="postgresql://unused/db", nats_url="nats://127.0.0.1:1"))
    for name in ("BOGUSA1", "BOGUSB2", "BOGUSC3"):
        assert await status_of(app, name, "/no-such-route") in (404, 405)
    counted = methods_counted()
    assert not counted & {"BOGUSA1", "BOGUSB2", "BOGUSC3"}
    assert "other" in counted

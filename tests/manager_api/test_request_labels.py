"""The request counter's labels stay bounded whatever a client sends: an unknown HTTP method (any token
is a valid method on the wire) counts as "other", so random methods cannot grow the metric registry.
No backend is needed: the request never reaches a route, only the counting middleware, so the app is
called as ASGI directly (its lifespan, which opens the connections, never runs)."""

from __future__ import annotations

from services.manager.api import ApiDeps, create_app
from services.manager.api.metrics import REQUESTS
from tests.asgi_call import asgi_request


def methods_counted() -> set[str]:
    return {
        sample.labels["method"]
        for family in REQUESTS.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    }


async def test_an_unknown_method_is_counted_as_other_not_by_its_name() -> None:
    app = create_app(ApiDeps(database_url="postgresql://unused/db", nats_url="nats://127.0.0.1:1"))
    for name in ("BOGUSA1", "BOGUSB2", "BOGUSC3"):
        assert (await asgi_request(app, "/no-such-route", name)).status in (404, 405)
    counted = methods_counted()
    assert not counted & {"BOGUSA1", "BOGUSB2", "BOGUSC3"}
    assert "other" in counted

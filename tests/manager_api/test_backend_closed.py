"""A request that arrives while the API's connections are not open (before the lifespan opened them, or
after shutdown closed them) gets a 503 saying so, not a 500 from a missing attribute."""

from __future__ import annotations

from services.manager.api import ApiDeps, create_app
from tests.asgi_call import asgi_request


async def test_reads_before_the_connections_open_and_after_they_close_are_503() -> None:
    app = create_app(ApiDeps(database_url="postgresql://unused/db", nats_url="nats://127.0.0.1:1"))
    reply = await asgi_request(app, "/positions")  # the lifespan never ran: no backend yet
    assert reply.status == 503
    assert "starting or stopping" in reply.json()["detail"]
    app.state.backend = None  # what the lifespan leaves after shutdown
    reply = await asgi_request(app, "/orders")
    assert reply.status == 503
    assert "starting or stopping" in reply.json()["detail"]

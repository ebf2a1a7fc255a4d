"""/healthz is unauthenticated, so its details never carry a secret: the NATS check names the server by
host and port, not by the URL's netloc, which holds `user:password` when the URL embeds them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast
from urllib.parse import urlparse

from services.manager.api import health
from services.manager.api.backend import Backend


async def test_the_nats_check_names_host_and_port_without_credentials() -> None:
    nc = SimpleNamespace(
        is_connected=True, connected_url=urlparse("nats://manager:s3cret-pass@10.0.0.7:4222")
    )
    api = cast(Backend, SimpleNamespace(nc=nc))
    detail = await health._nats(api)
    assert "s3cret-pass" not in detail
    assert "manager" not in detail
    assert detail == "connected to 10.0.0.7:4222"

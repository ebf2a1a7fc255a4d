"""The AsyncAPI document the docs page renders: generated from the registry when the router is built,
the same text `gordon asyncapi` writes, so the page can never show a stale copy of asyncapi.yaml."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from registry.asyncapi import DEFAULT_NATS_HOST, build, render


def asyncapi_document(nats_host: str | Sequence[str] = DEFAULT_NATS_HOST) -> dict[str, Any]:
    """The registry's AsyncAPI document as data."""
    from schemas import REGISTRY  # the payload models load only when a docs router is built

    return build(REGISTRY, nats_host)


def asyncapi_text(document: dict[str, Any]) -> str:
    """The YAML text of `document`, header included (byte-equal to a fresh asyncapi.yaml)."""
    return render(document)


def nats_hosts(nats_url: str) -> list[str]:
    """The host:port of each server of a NATS URL setting (comma-separated for a cluster), without the
    scheme or any login: what the document's servers name."""
    hosts = []
    for server in nats_url.split(","):
        parts = urlsplit(server.strip() if "://" in server else f"nats://{server.strip()}")
        if parts.hostname:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            hosts.append(f"{host}:{parts.port or 4222}")
    return hosts or [DEFAULT_NATS_HOST]

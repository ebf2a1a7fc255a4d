"""The AsyncAPI document the docs page renders: generated from the registry when the router is built,
the same text `gordon asyncapi` writes, so the page can never show a stale copy of asyncapi.yaml."""

from __future__ import annotations

from typing import Any

from registry.asyncapi import DEFAULT_NATS_HOST, build, render


def asyncapi_document(nats_host: str = DEFAULT_NATS_HOST) -> dict[str, Any]:
    """The registry's AsyncAPI document as data."""
    from schemas import REGISTRY  # the payload models load only when a docs router is built

    return build(REGISTRY, nats_host)


def asyncapi_text(document: dict[str, Any]) -> str:
    """The YAML text of `document`, header included (byte-equal to a fresh asyncapi.yaml)."""
    return render(document)

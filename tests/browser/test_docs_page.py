"""The AsyncAPI docs browser in headless Chromium: every channel of asyncapi.yaml gets a section, the page
loads only from its own origin with no failed request or console error, and a screenshot is saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gordon.paths import ROOT
from services.manager.api.docs import create_docs_app

from .conftest import PageProbe, ServeAsgi, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SCHEMA_ID = "gordon-bus"
"""The component's `schemaID` (static/render.js): it prefixes every element id it renders."""
RENDER_TIMEOUT_MS = 60_000


def _document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "asyncapi.yaml").read_text(encoding="utf-8"))
    return document


def _operations_by_channel(document: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Channel id -> [(action, operation id)] of the operations on it, from asyncapi.yaml."""
    found: dict[str, list[tuple[str, str]]] = {cid: [] for cid in document["channels"]}
    for oid, operation in document["operations"].items():
        cid = operation["channel"]["$ref"].removeprefix("#/channels/")
        found[cid].append((operation["action"], oid))
    return found


async def test_docs_page_renders_every_channel(
    probe: PageProbe, serve_asgi: ServeAsgi, output_dir: Path
) -> None:
    document = _document()
    operations = _operations_by_channel(document)
    assert operations, "asyncapi.yaml has no channels"
    page = probe.page
    async with serve_asgi(create_docs_app()) as base_url:
        await page.goto(f"{base_url}/docs/asyncapi")
        await page.locator(f'[id="{SCHEMA_ID}-operations"]').wait_for(timeout=RENDER_TIMEOUT_MS)
        for cid, channel in document["channels"].items():
            assert operations[cid], f"channel {cid} has no operation, so the page has no section for it"
            for action, oid in operations[cid]:
                section = page.locator(f'[id="{SCHEMA_ID}-operation-{action}-{oid}"]')
                await section.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
                text = await section.inner_text()
                assert channel["address"] in text, f"the {action} section of {cid} does not show its address"
                assert oid in text, f"the section of operation {oid} does not show its id"
        for name in document["components"]["messages"]:
            await page.locator(f'[id="{SCHEMA_ID}-message-{name}"]').wait_for(timeout=RENDER_TIMEOUT_MS)
        assert await page.locator("section.border-red-500").count() == 0, "the component shows an error"
        await page.wait_for_load_state("networkidle")
        await save_screenshot(page, output_dir, "docs-asyncapi")
    probe.assert_clean()
    assert probe.requests, "the probe saw no request"
    assert f"{base_url}/docs/asyncapi.yaml" in probe.requests

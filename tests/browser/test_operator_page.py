"""The operator page in headless Chromium: it loads positions, orders and the latch from the REST API,
goes live over /ws, and shows a fill published onto gordon-bus while it is open (the delay is measured,
printed and written to the test's output folder, beside a screenshot)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from consumers.manager.api import ApiDeps, create_app
from gordon.platform import prepare_projections
from tests.live_feed.feed import Bus, eventually, fill, running_manager

from .conftest import PageProbe, ServeAsgi, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SHOW_TIMEOUT_MS = 30_000


async def test_the_operator_page_shows_a_fill_published_while_it_is_open(
    probe: PageProbe,
    serve_asgi: ServeAsgi,
    output_dir: Path,
    nats: NatsClient,
    nats_url: str,
    database: str,
    fresh_bus: Callable[[], Awaitable[None]],
) -> None:
    await fresh_bus()
    await prepare_projections(database)
    page = probe.page
    async with running_manager(nats_url, database) as manager:
        deps = ApiDeps(database_url=database, nats_url=nats_url, recent=manager.recent, live=manager.live)
        async with serve_asgi(create_app(deps)) as base_url:
            await page.goto(f"{base_url}/")
            await page.locator('#connection[data-state="live"]').wait_for(timeout=SHOW_TIMEOUT_MS)
            await page.locator('#latch[data-halted="false"]').wait_for(timeout=SHOW_TIMEOUT_MS)
            await eventually(lambda: manager.live.clients == 1, "the page's /ws client to attach")

            event = fill(1)
            started = time.perf_counter()
            seq = await Bus(nats.jetstream()).fill(event)
            row = page.locator(f'#fills tr[data-fill-id="{event.fill_id}"]')
            await row.wait_for(timeout=SHOW_TIMEOUT_MS)
            delay_ms = (time.perf_counter() - started) * 1000

            cells = await row.locator("td").all_inner_texts()
            assert cells[1] == str(seq)
            assert cells[3] == "BTCUSDT"
            assert cells[5] == "0.01"
            assert await page.locator("#last-seq").inner_text() == str(seq)
            await page.wait_for_load_state("networkidle")
            await save_screenshot(page, output_dir, "operator-page")
    line = f"operator page showed a fill {delay_ms:.0f} ms after it was published (seq {seq})"
    print(line)
    (output_dir / "fill-delay.txt").write_text(line + "\n", encoding="utf-8")
    probe.assert_clean()

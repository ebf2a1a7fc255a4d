"""The operator page in headless Chromium: it loads positions, orders and the latch from the REST API,
goes live over /ws, and shows a fill published onto gordon-bus while it is open (the delay is measured,
printed and written to the test's output folder, beside a screenshot) and one published while it was
disconnected (it reconnects with ?since=<last seq>); a trip shows live, and the
resume button sends the operator's request with the typed token."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient

from gordon.platform import prepare_projections
from projections.catalog import PROJECTIONS
from projections.runner import Runner
from schemas import REGISTRY
from services.manager.api import ApiDeps, create_app
from settings import roles
from settings.dsn import with_user
from tests.live_feed.feed import Bus, breaker, fill, running_manager
from tests.waiting import eventually

from .conftest import PageProbe, ServeAsgi, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SHOW_TIMEOUT_MS = 30_000
TOKEN = "operator-token-for-tests"


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
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
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
            assert await row.get_attribute("data-seq") == str(seq)
            assert cells[3] == "BTCUSDT"
            assert cells[5] == "0.010000"  # the qty column's one format: 6 places
            assert await page.locator("#last-seq").inner_text() == str(seq)

            # Dropped by the server, the page reconnects with ?since=<its last seq>: a fill published
            # while it was away is replayed.
            manager.live.drop_all("dropped by the test")
            missed = fill(2)
            missed_seq = await Bus(nats.jetstream()).fill(missed)
            await page.locator(f'#fills tr[data-fill-id="{missed.fill_id}"]').wait_for(
                timeout=SHOW_TIMEOUT_MS
            )
            assert sockets[-1].endswith(f"/ws?since={seq}")
            assert await page.locator("#fills tbody tr").count() == 2
            assert await page.locator("#last-seq").inner_text() == str(missed_seq)
            await page.wait_for_load_state("networkidle")
            await save_screenshot(page, output_dir, "operator-page")
    line = f"operator page showed a fill {delay_ms:.0f} ms after it was published (seq {seq})"
    print(line)
    (output_dir / "fill-delay.txt").write_text(line + "\n", encoding="utf-8")
    probe.assert_clean()


@contextlib.asynccontextmanager
async def projections_following(nats: NatsClient, database: str) -> AsyncIterator[None]:
    """Every projection's live runner (positions, orders, the latch), as gordon up runs them."""
    stop = asyncio.Event()
    dsn = with_user(database, roles.PROJECTOR)
    js = nats.jetstream()
    runners = [asyncio.create_task(Runner(p, dsn, js, REGISTRY).run(stop)) for p in PROJECTIONS.values()]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*runners), 30)


async def test_a_trip_shows_live_and_the_resume_button_sends_the_operators_request(
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
    bus = Bus(nats.jetstream())
    async with projections_following(nats, database), running_manager(nats_url, database) as manager:
        deps = ApiDeps(
            database_url=database, nats_url=nats_url, recent=manager.recent, live=manager.live, token=TOKEN
        )
        async with serve_asgi(create_app(deps)) as base_url:
            await page.goto(f"{base_url}/")
            await page.locator('#connection[data-state="live"]').wait_for(timeout=SHOW_TIMEOUT_MS)
            await page.locator('#latch[data-halted="false"]').wait_for(timeout=SHOW_TIMEOUT_MS)
            await eventually(lambda: manager.live.clients == 1, "the page's /ws client to attach")
            assert await page.locator("#resume").is_disabled()

            await bus.fill(fill(1))
            await bus.breaker(breaker(1))
            await page.locator('#latch[data-halted="true"]').wait_for(timeout=SHOW_TIMEOUT_MS)
            await page.locator("#events tbody tr").first.wait_for(timeout=SHOW_TIMEOUT_MS)
            # The fill reaches the positions view through its projection; the page asks again after fills.
            await page.locator("#positions tbody tr").first.wait_for(timeout=SHOW_TIMEOUT_MS)
            halted_js = "fetch('/risk').then(r => r.json()).then(body => body.latch.halted)"
            deadline = time.monotonic() + 30
            while not await page.evaluate(halted_js):  # the latch view folds the trip too
                assert time.monotonic() < deadline, "the latch projection never folded the trip"
                await asyncio.sleep(0.2)

            await page.fill("#actor", "carol")
            await page.fill("#token", TOKEN)
            await page.fill("#reason", "drawdown reviewed")
            await page.click("#resume")
            result = page.locator("#request-result", has_text="resume accepted")
            await result.wait_for(timeout=SHOW_TIMEOUT_MS)
            assert await page.evaluate("sessionStorage.getItem('gordon.operatorToken')") == TOKEN
            await page.wait_for_load_state("networkidle")
            await save_screenshot(page, output_dir, "operator-page-halted")
    reasons = await audited_reasons(database)
    assert len(reasons) == 1
    assert reasons[0].startswith("carol: ")
    assert reasons[0].endswith(": drawdown reviewed")
    probe.assert_clean()


async def audited_reasons(database: str) -> list[str]:
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch("SELECT actor, reason FROM trading.risk_audit_log")
        return [f"{row['actor']}: {row['reason']}" for row in rows]
    finally:
        await conn.close()

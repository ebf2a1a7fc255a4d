"""The operator page on a running demo (`gordon up --demo` as a user starts it), in headless Chromium:
both charts draw from what the platform produces and grow with fills that arrive over the live feed,
the two demo bots are told apart by name, the fills are there again after a reload (REST), a flatten
halts the latch and a resume clears it. Screenshots of the page and of the docs browser are left in the
test's output folder (docs/screenshots/ holds copies for the README)."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page

from gordon import tables
from gordon.commands.tables import read, reader_url
from settings import endpoints
from tests.platform_process import Up

from .conftest import PageProbe, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

TOKEN = "demo-operator-token-for-the-test"
SHOW_MS = 60_000


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    """A running `gordon up --demo` with a known operator token; yields the manager's URL as the run
    recorded it for other shells (GORDON_DATA_DIR/endpoints.json)."""
    up = Up(tmp_path, "--demo", env={"GORDON_MANAGER_TOKEN": TOKEN})
    try:
        deadline = time.monotonic() + 60
        while not ((run := endpoints.read(tmp_path)) and run.manager_url):  # known once it listens
            assert time.monotonic() < deadline, f"no manager URL recorded: {up.stderr()}"
            time.sleep(0.1)
        assert run.pid == up.process.pid
        while not _answers(run.manager_url):  # the URL is fixed before the manager starts listening
            assert time.monotonic() < deadline, (
                f"the manager never answered at {run.manager_url}: {up.stderr()}"
            )
            time.sleep(0.2)
        yield run.manager_url
    finally:
        up.end()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


async def dataset(page: Page, selector: str, name: str) -> int:
    value = await page.locator(selector).first.get_attribute(f"data-{name}")
    return int(value or 0)


async def until(page: Page, check: str, what: str, timeout_s: float = 60) -> None:
    """Wait until the JavaScript expression `check` is true on the page."""
    deadline = time.monotonic() + timeout_s
    while not await page.evaluate(check):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


CHART_STATE = """() => ({
  pnlPoints: Number(document.getElementById('pnl-chart').dataset.points),
  pnlBots: Number(document.getElementById('pnl-chart').dataset.bots),
  prices: [...document.querySelectorAll('#price-charts .chart')].map(e => ({
    symbol: e.dataset.symbol, candles: Number(e.dataset.candles), markers: Number(e.dataset.markers),
    canvases: e.querySelectorAll('canvas').length,
  })),
})"""


LIFECYCLE = """fetch('/bots').then(r => r.json()).then(b => Promise.all(b.items.map(bot =>
  fetch(`/bots/${bot.botId}/events`).then(r => r.json()).then(page => page.items.map(e => e.kind)))))
  .then(kinds => kinds.every(k => ['started', 'paused', 'flattened', 'resumed'].every(x => k.includes(x))))"""

BOTS_TABLE = """(() => { const rows = [...document.querySelectorAll('#bots tbody tr')];
  return rows.length === 2 && rows.every(r => r.dataset.leased === 'true' && r.dataset.lastEvent === 'resumed'
    && r.querySelector('td.lease').textContent.includes(':')); })()"""

OPERATOR_SET = {"bot_notional_caps", "global_notional_cap"}
"""Trading tables no service writes: the notional caps an operator sets (the demo sets none)."""


async def test_the_demo_page_charts_names_reload_flatten_and_resume(
    probe: PageProbe, demo: str, output_dir: Path, tmp_path: Path
) -> None:
    page = probe.page
    await page.goto(f"{demo}/")
    await page.locator('#connection[data-state="live"]').wait_for(timeout=SHOW_MS)
    for service in ("manager", "data", "bot", "executor", "risk"):  # one readiness tile each, all ready
        await page.locator(f'#readiness .tile[data-service="{service}"][data-ready="true"]').wait_for(
            timeout=SHOW_MS
        )

    # Both charts draw what the platform made: PnL lines for both bots, candles and fills per symbol.
    both = (
        "(() => { const s = (" + CHART_STATE + ")(); return s.pnlBots >= 2 && s.prices.length >= 2"
        " && s.prices.every(p => p.candles > 0 && p.markers > 0 && p.canvases > 0); })()"
    )
    await until(page, both, "both charts to draw both bots' fills")
    before = await page.evaluate(CHART_STATE)

    # ... and grow with fills that come over the live feed (rows carrying their stream sequence).
    live_fill = page.locator("#fills tbody tr[data-seq]").first
    await live_fill.wait_for(timeout=SHOW_MS)
    grew = (
        "(() => { const s = (" + CHART_STATE + ")(); "
        f"return s.pnlPoints > {before['pnlPoints']} && "
        f"s.prices.reduce((n, p) => n + p.markers, 0) > {sum(p['markers'] for p in before['prices'])}; }})()"
    )
    await until(page, grew, "a live fill to add a PnL point and a fill marker")

    # Two distinguishable bots: names from their configuration, on every table.
    names = set(await page.locator("#positions tbody td.bot").all_inner_texts())
    assert names == {"sma_cross BTCUSDT 1m", "sma_cross ETHUSDT 1m"}, names
    bot_ids = {await cell.get_attribute("data-id") for cell in await page.locator("#positions td.bot").all()}
    assert len(bot_ids) == 2
    fill_ids = await page.locator("#fills tbody td.id:first-of-type").all_inner_texts()
    assert all(text.startswith("…") and len(text) == 7 for text in fill_ids[:5]), fill_ids[:5]
    await page.wait_for_timeout(1000)
    await save_screenshot(page, output_dir, "operator-page")

    # After a reload the fills are there from GET /fills, before any live message.
    shown = await page.locator("#fills tbody tr").count()
    await probe.reload()  # what it had in flight is aborted by the reload, not failed
    await page.locator("#fills tbody tr").first.wait_for(timeout=SHOW_MS)
    assert await page.locator("#fills tbody tr:not([data-seq])").count() > 0
    assert await page.locator("#fills tbody tr").count() >= min(shown, 50)

    # Flatten halts, resume clears.
    await page.locator('#latch[data-halted="false"]').wait_for(timeout=SHOW_MS)
    await page.fill("#actor", "demo-test")
    await page.fill("#token", TOKEN)
    await page.fill("#reason", "browser test: flatten")
    await page.click("#flatten")
    await page.locator("#request-result", has_text="flatten accepted").wait_for(timeout=SHOW_MS)
    await page.locator('#latch[data-halted="true"]').wait_for(timeout=SHOW_MS)
    await until(page, "fetch('/risk').then(r => r.json()).then(b => b.latch.halted)", "the latch view")
    assert await page.locator("#resume").is_enabled()
    await save_screenshot(page, output_dir, "operator-page-flattened")
    await page.fill("#reason", "browser test: resume")
    await page.click("#resume")
    await page.locator("#request-result", has_text="resume accepted").wait_for(timeout=SHOW_MS)
    await page.locator('#latch[data-halted="false"]').wait_for(timeout=SHOW_MS)

    # The manager shows each bot's run and lease, and the lifecycle the flatten and resume wrote.
    bots = await page.evaluate("fetch('/bots').then(r => r.json())")
    assert all(b["run"] and b["lease"] for b in bots["items"]), bots
    await until(page, LIFECYCLE, "each bot's started, paused, flattened and resumed events")
    # ... and the page's bots table shows them: each bot leased, its last event the resume (5 s refresh).
    await until(page, BOTS_TABLE, "the bots table to show both bots leased and resumed", timeout_s=30)

    await probe.goto(f"{demo}/docs/asyncapi")  # the operator page's polls in flight are aborted
    await page.locator(".aui-root, #asyncapi .container\\:base, #asyncapi section").first.wait_for(
        timeout=SHOW_MS
    )
    await page.wait_for_load_state("networkidle")
    await page.screenshot(path=str(output_dir / "docs-browser.png"))  # its first screen: it is long
    request = page.locator('[id="gordon-bus-message-OperatorRequest.v2"]')
    await request.scroll_into_view_if_needed()
    body = await request.inner_text()
    assert "pause every bot" in body, "the whole description, not its first line"
    assert "exchange maintenance in ten minutes" in body, "the declared example, not a generated one"
    await request.screenshot(path=str(output_dir / "docs-browser-message.png"))
    probe.assert_clean()

    # Every market-data table has filled, as `gordon tables` reads it from a second shell.
    run = endpoints.read(tmp_path)
    assert run is not None
    counted = await read(reader_url(run.database_url), ("market_data",), tables.DEFAULT_CAP)
    empty = {row.table for row in counted if not row.rows}
    assert {"spot_klines", "perp_klines"} <= {row.table for row in counted}
    assert empty == set(), {row.table: row.rows for row in counted}
    # ... and every trading table but the caps, which only an operator sets.
    counted = await read(reader_url(run.database_url), ("trading",), tables.DEFAULT_CAP)
    empty = {row.table for row in counted if not row.rows}
    assert {"runs", "trades", "signals", "fences", "bot_leases"} <= {row.table for row in counted}
    assert empty == OPERATOR_SET, {row.table: row.rows for row in counted}
    counted = await read(reader_url(run.database_url), ("paper",), tables.DEFAULT_CAP)
    assert {row.table for row in counted} == {"orders", "fills", "fence_tokens"}
    assert all(row.rows for row in counted), {row.table: row.rows for row in counted}

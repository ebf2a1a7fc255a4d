"""The operator page stays bounded however long it is left open: it keeps only the orders it shows and
as many breaker events as GET /risk returns, where it held (and re-sorted on every update) every order
and every breaker event the feed ever sent."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from services.manager.api.live import live_router

from .conftest import PageProbe, ServeAsgi

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

FEED = """
(n) => {
  for (let i = 1; i <= n; i++) {
    const id = "00000000-0000-7000-8000-" + String(i).padStart(12, "0");
    apply({seq: 2 * i, kind: "order", subject: "trading.orders.x", data: {
      orderId: id, botId: id, symbol: "BTCUSDT", side: "buy", orderType: "market", qty: "1",
      kind: "accepted", filledQty: "0", version: 1, tsMs: 1700000000000 + i}});
    apply({seq: 2 * i + 1, kind: "breaker", subject: "risk.events.x", data: {
      latchId: "global", version: i, breaker: "drawdown", action: i % 2 ? "trip" : "resume",
      message: "m" + i, tsMs: 1700000000000 + i}});
  }
  return {orders: state.orders.size, events: state.events.length,
          newest: state.orders.has("00000000-0000-7000-8000-" + String(n).padStart(12, "0")),
          rows: document.querySelectorAll("#orders tbody tr").length};
}
"""


async def test_orders_and_breaker_events_held_by_the_page_are_bounded(
    probe: PageProbe, serve_asgi: ServeAsgi
) -> None:
    app = FastAPI()
    app.include_router(live_router(None))  # the page and its script; no REST state, no feed
    async with serve_asgi(app) as base_url:
        page = probe.page
        await page.goto(f"{base_url}/")  # waits for "load": the deferred app.js has run
        held = await page.evaluate(FEED, 600)
    assert held["orders"] <= 100
    assert held["rows"] == 100
    assert held["newest"]
    assert held["events"] <= 200

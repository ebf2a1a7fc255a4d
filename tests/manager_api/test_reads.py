"""GET /orders, /orders/{orderId}, /positions and /risk over the projections' views: camelCase keys,
filters, keyset pages newest first, 404 and 422 with clear messages."""

from __future__ import annotations

from decimal import Decimal

from domain.orders import OrderStatus
from domain.positions import PositionState
from registry.ids import uuid7
from schemas.common import Market
from schemas.risk import Breaker, BreakerEvent, LatchAction
from tests.manager_api.conftest import Api
from tests.manager_api.helpers import fetch
from tests.manager_api.seed import BOT_A, BOT_B, T0, order, store


async def test_orders_page_newest_first_with_filters(api: Api, database: str) -> None:
    orders = [
        order(BOT_A if i % 2 else BOT_B, i, OrderStatus.FILLED if i < 5 else OrderStatus.ACKED)
        for i in range(8)
    ]
    await store(database, orders, [])
    newest_first = [str(o.order_id) for o in reversed(orders)]

    seen, cursor = [], None
    while True:
        r = await api.get("/orders", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 3
        seen += [o["orderId"] for o in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == newest_first

    r = await api.get("/orders", params={"botId": str(BOT_A), "status": "filled"})
    got = r.json()["items"]
    assert [o["orderId"] for o in got] == [
        str(o.order_id) for o in reversed(orders) if o.bot_id == BOT_A and o.status is OrderStatus.FILLED
    ]
    first = got[0]
    assert set(first) == {
        "orderId",
        "botId",
        "intentId",
        "symbol",
        "market",
        "side",
        "orderType",
        "qty",
        "limitPrice",
        "status",
        "filledQty",
        "reason",
        "version",
        "createdMs",
        "updatedMs",
    }
    assert (first["qty"], first["filledQty"], first["status"]) == ("0.01", "0.01", "filled")


async def test_order_by_id_and_404(api: Api, database: str) -> None:
    one = order(BOT_A, 1, OrderStatus.ACKED)
    await store(database, [one], [])
    r = await api.get(f"/orders/{one.order_id}")
    assert r.status_code == 200, r.text
    assert r.json()["orderId"] == str(one.order_id)
    missing = uuid7()
    r = await api.get(f"/orders/{missing}")
    assert r.status_code == 404
    assert r.json() == {"detail": f"no order {missing}"}


async def test_bad_query_params_get_422_with_one_line(api: Api) -> None:
    r = await api.get("/orders", params={"limit": 501, "status": "lost", "cursor": "nope"})
    assert r.status_code == 422
    message = r.json()["message"]
    assert "query.limit: Input should be less than or equal to 500" in message
    assert "query.status: Input should be 'submitted', 'acked'" in message
    assert "query.cursor: Input should be a valid UUID" in message
    r = await api.get("/orders/not-a-uuid")
    assert r.status_code == 422
    assert r.json()["message"].startswith("path.orderId: Input should be a valid UUID")


async def test_positions_by_bot(api: Api, database: str) -> None:
    positions = [
        PositionState(
            bot,
            "ETHUSDT",
            Market.SPOT,
            Decimal("0.2"),
            Decimal("2000"),
            Decimal("1.5"),
            Decimal("0.1"),
            2,
            T0,
        )
        for bot in (BOT_A, BOT_B)
    ]
    await store(database, [], positions)
    r = await api.get("/positions")
    assert [p["botId"] for p in r.json()["items"]] == [str(BOT_A), str(BOT_B)]
    r = await api.get("/positions", params={"botId": str(BOT_B)})
    (only,) = r.json()["items"]
    assert only == {
        "botId": str(BOT_B),
        "symbol": "ETHUSDT",
        "market": "spot",
        "qty": "0.2",
        "avgEntryPrice": "2000",
        "realizedPnl": "1.5",
        "fees": "0.1",
        "version": 2,
        "updatedMs": T0,
        "markPrice": None,
        "markMs": None,
        "unrealizedPnl": None,
    }
    flat = PositionState(
        BOT_A,
        "SOLUSDT",
        Market.SPOT,
        Decimal("0E-8"),
        Decimal("0E-8"),
        Decimal("-4.5032"),
        Decimal("1"),
        3,
        T0,
    )
    await store(database, [], [flat])
    r = await api.get("/positions", params={"botId": str(BOT_A)})
    sol = next(p for p in r.json()["items"] if p["symbol"] == "SOLUSDT")
    assert (sol["qty"], sol["avgEntryPrice"], sol["realizedPnl"]) == ("0.00000000", "0.00000000", "-4.5032")


async def test_a_missing_view_is_503_naming_it(api: Api, database: str) -> None:
    await fetch(database, "DROP VIEW trading.positions")
    r = await api.get("/positions")
    assert r.status_code == 503
    assert r.json() == {
        "detail": "trading.positions does not exist yet: its projection has no live generation"
    }


async def test_risk_shows_the_latch_and_recent_events_newest_first(api: Api) -> None:
    for version in (1, 2):
        api.deps.recent.add(
            BreakerEvent(
                version=version, breaker=Breaker.DRAWDOWN, action=LatchAction.TRIP, ts_ms=T0 + version
            )
        )
    r = await api.get("/risk")
    body = r.json()
    assert body["latch"] == {
        "latchId": "global",
        "halted": False,
        "breaker": None,
        "reason": "",
        "version": 0,
        "changedMs": 0,
        "trips": 0,
    }
    assert [e["version"] for e in body["recentEvents"]] == [2, 1]
    assert set(body["recentEvents"][0]) >= {"eventId", "latchId", "breaker", "action", "tsMs", "botId"}

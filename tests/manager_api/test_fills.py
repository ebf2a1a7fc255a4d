"""GET /fills over the fills projection: fills published on the bus and folded by the real runner come
back newest first in keyset pages, filtered by bot and symbol, each with the position it left."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nats.aio.client import Client as NatsClient

from domain.positions import PositionState, apply_fill
from projections.catalog import PROJECTIONS
from schemas.common import bot_token
from services.manager.api.models import decimal_text
from settings import roles
from tests.manager_api.conftest import Api
from tests.projecting.helpers import fills, history_has, publish, run_until_caught_up


async def test_fills_newest_first_in_pages_with_filters_and_the_position_after_each(
    api: Api, database: str, dsn_for: Callable[[str, str], str], nats: NatsClient
) -> None:
    js = nats.jetstream()
    events = fills(5, 40)
    for fill in events:
        await publish(js, f"trading.fills.{bot_token(fill.bot_id)}", fill)
    await history_has(js, len(events))
    await run_until_caught_up(PROJECTIONS["fills"], dsn_for(database, roles.PROJECTOR), js)

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = await api.get("/fills", params={"limit": 7, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 7
        seen += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert [f["fillId"] for f in seen] == [str(f.fill_id) for f in reversed(events)]

    positions: dict[Any, PositionState] = {}
    after = {}
    for fill in events:
        key = (fill.bot_id, fill.symbol)
        after[str(fill.fill_id)] = positions[key] = apply_fill(positions.get(key), fill)
    newest = seen[0]
    state = after[newest["fillId"]]
    assert newest["eventId"] == str(events[-1].event_id)
    assert (newest["positionQty"], newest["realizedPnl"], newest["fees"]) == (
        decimal_text(state.qty),
        decimal_text(state.realized_pnl),
        decimal_text(state.fees),
    )
    assert isinstance(newest["qty"], str)
    assert isinstance(newest["price"], float)

    bot, symbol = events[0].bot_id, events[0].symbol
    r = await api.get("/fills", params={"botId": str(bot), "symbol": symbol, "limit": 500})
    assert [f["fillId"] for f in r.json()["items"]] == [
        str(f.fill_id) for f in reversed(events) if (f.bot_id, f.symbol) == (bot, symbol)
    ]


async def test_bad_fill_queries_get_422_with_one_line(api: Api) -> None:
    r = await api.get("/fills", params={"symbol": "btc-usdt", "limit": 0, "botId": "nope"})
    assert r.status_code == 422
    message = r.json()["message"]
    assert "query.symbol: String should match pattern" in message
    assert "query.limit: Input should be greater than or equal to 1" in message
    assert "query.botId: Input should be a valid UUID" in message

"""GET /klines (candles through market_data.v_klines_reader), positions marked at the last 1m close with
their unrealized PnL, and GET /bots with names a person can tell apart, their runs, leases and events."""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import UUID

import asyncpg

from domain.positions import PositionState
from registry.ids import uuid7
from schemas.common import Market
from services.bot.leases import Leases
from services.bot.runs import open_runs, stop_runs
from stores.bot_events import BotEventKind, record
from tests.manager_api.conftest import Api
from tests.manager_api.helpers import fetch
from tests.manager_api.seed import BOT_A, T0, store

MINUTE = 60_000


async def add_klines(database: str, symbol: str, closes: list[float]) -> None:
    for i, close in enumerate(closes):
        await fetch(
            database,
            "INSERT INTO market_data.spot_klines (symbol, tf, open_time_ms, close_time_ms, open, high, low,"
            " close, volume, quote_volume, trades)"
            " VALUES ($1, '1m', $2, $3, $4::float8, $4 + 1, $4 - 1, $4, 2.5, 1, 1)",
            symbol,
            T0 + i * MINUTE,
            T0 + (i + 1) * MINUTE - 1,
            close,
        )


async def test_klines_newest_oldest_first_and_after_a_time(api: Api, database: str) -> None:
    await add_klines(database, "BTCUSDT", [100.0 + i for i in range(10)])
    r = await api.get("/klines", params={"symbol": "BTCUSDT", "limit": 3})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [k["close"] for k in items] == [107.0, 108.0, 109.0]
    assert items[0] == {
        "openTimeMs": T0 + 7 * MINUTE,
        "closeTimeMs": T0 + 8 * MINUTE - 1,
        "open": 107.0,
        "high": 108.0,
        "low": 106.0,
        "close": 107.0,
        "volume": "2.5",
    }
    r = await api.get("/klines", params={"symbol": "BTCUSDT", "after": T0 + 5 * MINUTE, "limit": 2})
    assert [k["openTimeMs"] for k in r.json()["items"]] == [T0 + 6 * MINUTE, T0 + 7 * MINUTE]
    r = await api.get("/klines", params={"symbol": "ETHUSDT"})
    assert r.json() == {"items": []}
    r = await api.get("/klines", params={"symbol": "btc", "tf": "2m", "limit": 1001})
    assert r.status_code == 422
    message = r.json()["message"]
    assert "query.symbol: String should match pattern" in message
    assert "query.tf: Input should be '1m'" in message
    assert "query.limit: Input should be less than or equal to 1000" in message


async def test_positions_are_marked_at_the_last_1m_close(api: Api, database: str) -> None:
    long = PositionState(
        BOT_A, "BTCUSDT", Market.SPOT, Decimal("0.5"), Decimal("100"), Decimal("1"), Decimal("0.1"), 2, T0
    )
    flat = PositionState(BOT_A, "ETHUSDT", Market.SPOT, Decimal(0), Decimal(0), Decimal(2), Decimal(0), 1, T0)
    await store(database, [], [long, flat])
    await add_klines(database, "BTCUSDT", [101.0, 103.25])
    items = {p["symbol"]: p for p in (await api.get("/positions")).json()["items"]}
    btc = items["BTCUSDT"]
    assert (btc["markPrice"], btc["markMs"], btc["unrealizedPnl"]) == (
        103.25,
        T0 + 2 * MINUTE - 1,
        "1.62500000",
    )
    eth = items["ETHUSDT"]
    assert (eth["markPrice"], eth["markMs"], eth["unrealizedPnl"]) == (None, None, None)  # no klines yet


async def bot(database: str, symbol: str, *, created_ms: int) -> str:
    bot_id = uuid7(created_ms)
    await fetch(
        database,
        "INSERT INTO trading.bot_configs (bot_id, symbol, market, tf, strategy, params, created_ms)"
        " VALUES ($1, $2, 'spot', '1m', 'sma_cross', $3::jsonb, $4)",
        bot_id,
        symbol,
        json.dumps({"fast": 5, "slow": 20, "qty": "0.01"}),
        created_ms,
    )
    return str(bot_id)


async def test_bots_have_names_from_their_config_and_shared_names_get_the_end_of_the_id(
    api: Api, database: str
) -> None:
    eth = await bot(database, "ETHUSDT", created_ms=T0)
    first = await bot(database, "BTCUSDT", created_ms=T0 + 1)
    second = await bot(database, "BTCUSDT", created_ms=T0 + 2)
    r = await api.get("/bots")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(b["botId"], b["name"]) for b in items] == [
        (eth, "sma_cross ETHUSDT 1m"),
        (first, f"sma_cross BTCUSDT 1m …{first[-6:]}"),
        (second, f"sma_cross BTCUSDT 1m …{second[-6:]}"),
    ]
    assert first[:8] == second[:8], "UUIDv7s made a millisecond apart share their first characters"
    assert items[0]["params"] == {"fast": 5, "slow": 20, "qty": "0.01"}
    assert (items[0]["desiredState"], items[0]["market"], items[0]["tf"]) == ("running", "spot", "1m")


async def test_bots_show_their_running_run_and_lease_and_list_their_lifecycle_newest_first(
    api: Api, database: str
) -> None:
    running, idle = (
        await bot(database, "BTCUSDT", created_ms=T0),
        await bot(database, "ETHUSDT", created_ms=T0),
    )
    bot_id = UUID(running)
    conn = await asyncpg.connect(database)
    try:  # what the bot service and the executor write, with their own helpers
        first = await open_runs(conn, [bot_id], T0 + 1)
        await record(conn, BotEventKind.STARTED, list(first.items()), "run by host-a", T0 + 1)
        await record(conn, BotEventKind.PAUSED, list(first.items()), "risk: drawdown", T0 + 2)
        await stop_runs(conn, list(first.values()), T0 + 3)
        await record(conn, BotEventKind.STOPPED, list(first.items()), "clean shutdown", T0 + 3)
        second = await open_runs(conn, [bot_id], T0 + 4)
        await Leases("unused", "host-b:42:abcdef01").claim(conn, second, T0 + 4)
        await record(conn, BotEventKind.STARTED, list(second.items()), "run by host-b", T0 + 4)
    finally:
        await conn.close()

    items = {b["botId"]: b for b in (await api.get("/bots")).json()["items"]}
    assert items[running]["run"] == {"runId": str(second[bot_id]), "mode": "paper", "startedMs": T0 + 4}
    assert items[running]["lease"] == {
        "holder": "host-b:42:abcdef01",
        "acquiredMs": T0 + 4,
        "renewedMs": T0 + 4,
    }
    assert (items[idle]["run"], items[idle]["lease"], items[idle]["lastEvent"]) == (None, None, None)

    r = await api.get(f"/bots/{running}/events", params={"limit": 3})
    assert r.status_code == 200, r.text
    page = r.json()
    assert [(e["kind"], e["detail"], e["tsMs"]) for e in page["items"]] == [
        ("started", "run by host-b", T0 + 4),
        ("stopped", "clean shutdown", T0 + 3),
        ("paused", "risk: drawdown", T0 + 2),
    ]
    assert page["items"][0]["runId"] == str(second[bot_id])
    assert items[running]["lastEvent"] == page["items"][0]  # the newest event, as the list gives it
    rest = (await api.get(f"/bots/{running}/events", params={"cursor": page["nextCursor"]})).json()
    assert [(e["kind"], e["runId"]) for e in rest["items"]] == [("started", str(first[bot_id]))]
    assert rest["nextCursor"] is None
    assert (await api.get(f"/bots/{idle}/events")).json() == {"items": [], "nextCursor": None}
    missing = await api.get(f"/bots/{uuid7()}/events")
    assert missing.status_code == 404
    assert (await api.get(f"/bots/{running}/events", params={"limit": 0})).status_code == 422

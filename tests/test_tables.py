"""`gordon tables` on a real database the data service has filled: every market_data table has rows, a
trading table's rows and newest time show, a table added later appears by itself, counting stops at the
cap, it reads as gordon_drift_reader (a table that role may not read says so), and a bad argument is one
line."""

from __future__ import annotations

import asyncio
import json
from itertools import islice
from typing import Any, cast

import asyncpg
import pytest

from gordon import tables
from gordon.cli import main
from gordon.commands.tables import connect, reader_url
from gordon.services import DAY_MS, DEMO_BACKFILL_MINUTES, demo_start_ms
from registry.subject import Service
from schemas.common import Market
from services.data.extras import Extras
from services.data.feed import MINUTE_MS, Walk
from services.data.ingest import Ingest
from services.data.perp import Perp
from services.runtime import ServiceRuntime
from settings import roles
from tests.manual_clock import ManualClock

DAY = 1_704_067_200_000  # 2024-01-01T00:00Z: midnight closes every cadence (5 min .. daily) at once
LEAD = "BTCUSDT"
MARKET_DATA_TABLES = {
    "agg_trades",
    "fear_greed",
    "funding_rates",
    "gamma_exposure",
    "gamma_exposure_strikes",
    "macro_data",
    "metrics",
    "open_interest",
    "perp_klines",
    "source_freshness",
    "spot_klines",
    "stablecoin_supply",
}
"""As of revision 0010; the command finds them in the catalog, this only checks it finds them all."""


@pytest.fixture
async def filled(database: str, nats_url: str) -> str:
    """`database` after the data service ingested 23:30..00:31 UTC of one lead symbol with its perpetual
    twin and its extras."""
    clock = ManualClock(DAY)
    runtime = ServiceRuntime(Service.DATA, nats_url, database, clock)
    await runtime.open()
    try:
        twin = Perp(Ingest(runtime.outbox, clock, market=Market.PERP), seed=5)
        extras = Extras(clock, seed=5, lead=LEAD).on_candle
        ingest = Ingest(runtime.outbox, clock, extras=extras, derived=twin.on_candle)
        async with runtime.pool.acquire() as proxy:
            conn = cast(asyncpg.Connection, proxy)
            for candle in islice(Walk(LEAD, seed=5, start_ms=DAY - 30 * MINUTE_MS), 62):
                clock.now = candle.close_time_ms + 1
                await ingest.ingest(conn, candle)
    finally:
        await runtime.close()
    return database


def listed(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[tuple[str, str], dict[str, Any]]:
    assert main(["tables", *argv, "--format", "json"]) == 0
    return {(row["schema"], row["table"]): row for row in json.loads(capsys.readouterr().out)}


def test_every_market_data_table_has_rows_and_a_trading_table_shows_its_own(
    filled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def audit_row() -> int:
        conn = await asyncpg.connect(filled)
        try:
            await conn.execute(
                "INSERT INTO trading.risk_audit_log (action, actor, reason, ts_ms) "
                "VALUES ('resume', 'test', 'why', $1)",
                DAY + 5,
            )
            return int(await conn.fetchval("SELECT count(*) FROM trading.risk_config"))
        finally:
            await conn.close()

    configured = asyncio.run(audit_row())
    rows = listed(capsys, "--database-url", filled)
    market = {table: row for (schema, table), row in rows.items() if schema == "market_data"}
    assert set(market) == MARKET_DATA_TABLES
    assert {t: r["rows"] for t, r in market.items() if not (r["rows"] > 0 and r["exact"])} == {}
    assert market["fear_greed"]["newest_ms"] == DAY  # the daily slot the midnight candle closed
    assert market["spot_klines"]["time_column"] == "open_time_ms"
    assert market["agg_trades"]["time_column"] == "ts_ms"  # not in its key (symbol, agg_id)
    assert market["source_freshness"]["time_column"] == "last_event_ms"
    assert market["spot_klines"]["newest"] == "2024-01-01T00:31:00Z"
    assert market["spot_klines"]["age_s"] > 0
    audit = rows[("trading", "risk_audit_log")]
    assert (audit["rows"], audit["time_column"], audit["newest_ms"]) == (1, "ts_ms", DAY + 5)
    config = rows[("trading", "risk_config")]
    assert (config["rows"], config["time_column"]) == (configured, None)  # window_ms is a duration
    assert configured > 0
    assert rows[("trading", "fill_events")]["rows"] == 0
    assert list(rows)[: len(MARKET_DATA_TABLES)] == sorted(("market_data", t) for t in MARKET_DATA_TABLES)

    assert main(["tables", "--database-url", filled, "--schema", "market_data"]) == 0
    text = capsys.readouterr().out
    assert "| market_data | spot_klines " in text
    assert "trading" not in text
    assert main(["tables", "--database-url", filled, "--format", "csv", "--schema", "trading"]) == 0
    csv = capsys.readouterr().out.splitlines()
    assert csv[0] == "schema,table,rows,exact,time_column,newest_ms,newest,age_s,note"
    assert any(line.startswith(f"trading,risk_audit_log,1,true,ts_ms,{DAY + 5},") for line in csv)


def test_a_table_added_later_appears_and_counting_stops_at_the_cap(
    filled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def add() -> None:
        conn = await asyncpg.connect(filled)  # the schemas' owner, as a later migration would
        try:
            await conn.execute("CREATE TABLE market_data.zz_later (id bigint PRIMARY KEY, seen_ms bigint)")
            await conn.execute("INSERT INTO market_data.zz_later VALUES (1, 7), (2, 9)")
        finally:
            await conn.close()

    asyncio.run(add())
    rows = listed(capsys, "--database-url", filled, "--cap", "5")
    later = rows[("market_data", "zz_later")]
    assert (later["rows"], later["exact"], later["time_column"], later["newest_ms"]) == (
        2,
        True,
        "seen_ms",
        9,
    )
    trades = rows[("market_data", "agg_trades")]
    assert (trades["rows"], trades["exact"], trades["note"]) == (5, False, "counted up to 5")
    assert main(["tables", "--database-url", filled, "--cap", "5", "--schema", "market_data"]) == 0
    assert "| agg_trades             | 5+ " in capsys.readouterr().out


async def test_it_reads_as_the_drift_reader_which_cannot_write(filled: str) -> None:
    url = reader_url(filled)
    conn = await connect(url)
    try:
        assert await conn.fetchval("SELECT current_user") == roles.DRIFT_READER
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM market_data.spot_klines")
        found = {(r.schema, r.table): r for r in await tables.survey(conn)}
        one_minute = await conn.fetchval("SELECT count(*) FROM market_data.spot_klines WHERE tf = '1m'")
        assert one_minute == 62
        assert found[("market_data", "spot_klines")].rows == await conn.fetchval(
            "SELECT count(*) FROM market_data.spot_klines"
        )
    finally:
        await conn.close()


def test_a_table_the_drift_reader_may_not_read_says_so(
    filled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def revoke() -> None:
        conn = await asyncpg.connect(filled)
        try:
            await conn.execute(f"REVOKE SELECT ON market_data.fear_greed FROM {roles.DRIFT_READER}")
        finally:
            await conn.close()

    asyncio.run(revoke())
    row = listed(capsys, "--database-url", filled)[("market_data", "fear_greed")]
    assert (row["rows"], row["note"]) == (None, f"not readable by {roles.DRIFT_READER}")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cap", "0"], "gordon tables: argument --cap: expected a positive integer, got '0'"),
        (["--schema", "bus"], "gordon tables: argument --schema: invalid choice: 'bus'"),
        (["--format", "xml"], "gordon tables: argument --format: invalid choice: 'xml'"),
    ],
)
def test_a_bad_argument_is_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["tables", *argv])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert len(err.splitlines()) == 1


def test_no_server_is_the_one_wording(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GORDON_DATABASE_URL", raising=False)
    monkeypatch.setenv("GORDON_DATA_DIR", str(tmp_path))
    assert main(["tables"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gordon tables: no PostgreSQL server for the table counts: GORDON_DATABASE_URL")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("now_ms", [DAY, DAY + 1, DAY + 13 * 3_600_000 + 17, DAY + DAY_MS - 1])
def test_the_demo_backfill_spans_a_utc_midnight_two_to_three_days_back(now_ms: int) -> None:
    start = demo_start_ms(now_ms)
    first = start - DEMO_BACKFILL_MINUTES * MINUTE_MS
    assert 2 * DAY_MS <= now_ms - start + DEMO_BACKFILL_MINUTES // 2 * MINUTE_MS < 3 * DAY_MS
    midnight = start // DAY_MS * DAY_MS
    assert first < midnight <= start  # the candle closing at 00:00 UTC is in the backfill

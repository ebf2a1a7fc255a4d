"""The grant matrix: each role, connected as itself with asyncpg, can do exactly what it should.

Every operation runs in a transaction that is rolled back, so one operation cannot help or hurt
another; every denial must be `InsufficientPrivilegeError`, not some other failure.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest

from settings import roles
from tests.grant_matrix import attempt, cases, execute_all, mismatches

SEARCH_PATH = "trading, market_data, public"

KLINE = "('BTCUSDT', '1m', 60000, 119999, 1.0, 2.0, 0.5, 1.5, 10, 15, 3)"  # second bar, new row
KLINE_COLUMNS = (
    "(symbol, tf, open_time_ms, close_time_ms, open, high, low, close, volume, quote_volume, trades)"
)
UPSERT = " ON CONFLICT (symbol, tf, open_time_ms) DO UPDATE SET close = EXCLUDED.close"
OUTBOX_ROW = (
    "(event_id, subject, payload, schema_name, schema_version, producer) "
    "VALUES (gen_random_uuid(), 'market.klines.binance.spot.btcusdt.1m', '\\x00', 'Test', 1, 'data')"
)
# Row-level security lets a role append only the subjects its service produces (tests/bus_security
# proves every producer's allowed and denied subjects); this kline row is the data service's.

SEED = [
    f"INSERT INTO market_data.spot_klines {KLINE_COLUMNS} "
    "VALUES ('BTCUSDT', '1m', 0, 59999, 1.0, 2.0, 0.5, 1.5, 10, 15, 3)",
    f"INSERT INTO market_data.perp_klines {KLINE_COLUMNS} "
    "VALUES ('BTCUSDT', '1m', 0, 59999, 1.0, 2.0, 0.5, 1.5, 10, 15, 3)",
    "INSERT INTO market_data.source_freshness VALUES ('binance-spot', 1, 2)",
    f"INSERT INTO bus.outbox {OUTBOX_ROW}",
    "INSERT INTO bus.inbox (consumer, msg_id, processed_at_ms) "
    "VALUES ('executor-default', gen_random_uuid(), 1)",
]

OPERATIONS: dict[str, str] = {
    "outbox: append an event": f"INSERT INTO bus.outbox {OUTBOX_ROW}",
    "outbox: append a row already marked published": (
        "INSERT INTO bus.outbox (event_id, subject, payload, schema_name, schema_version, "
        "producer, published_at_ms) VALUES (gen_random_uuid(), 'm.t', '\\x00', 'T', 1, 'bot', 1)"
    ),
    "outbox: append and read back the id": f"INSERT INTO bus.outbox {OUTBOX_ROW} RETURNING id",
    "outbox: read": "SELECT count(*) FROM bus.outbox",
    "outbox: mark published": (
        "UPDATE bus.outbox SET published_at_ms = 1, attempts = attempts + 1 WHERE published_at_ms IS NULL"
    ),
    "outbox: quarantine": (
        "UPDATE bus.outbox SET quarantined_at_ms = 1, quarantine_reason = 'too big' WHERE id > 0"
    ),
    "outbox: rewrite a payload": "UPDATE bus.outbox SET payload = '\\x01'",
    "outbox: delete published": "DELETE FROM bus.outbox WHERE published_at_ms IS NULL",
    "spot_klines: read": "SELECT count(*) FROM market_data.spot_klines",
    "perp_klines: read": "SELECT count(*) FROM market_data.perp_klines",
    "source_freshness: read": "SELECT count(*) FROM market_data.source_freshness",
    "v_klines_reader: read": "SELECT count(*) FROM market_data.v_klines_reader",
    "spot_klines: insert": f"INSERT INTO market_data.spot_klines {KLINE_COLUMNS} VALUES {KLINE}",
    "spot_klines: upsert": (
        f"INSERT INTO market_data.spot_klines {KLINE_COLUMNS} "
        f"VALUES ('BTCUSDT', '1m', 0, 59999, 1.0, 2.0, 0.5, 1.7, 10, 15, 3){UPSERT}"
    ),
    "perp_klines: upsert": (f"INSERT INTO market_data.perp_klines {KLINE_COLUMNS} VALUES {KLINE}{UPSERT}"),
    "source_freshness: upsert": (
        "INSERT INTO market_data.source_freshness VALUES ('binance-spot', 5, 6) "
        "ON CONFLICT (source) DO UPDATE SET last_event_ms = EXCLUDED.last_event_ms"
    ),
    "spot_klines: delete": "DELETE FROM market_data.spot_klines",
    "inbox: record an event (first_time)": (
        "INSERT INTO bus.inbox (consumer, msg_id) VALUES ('executor-default', gen_random_uuid()) "
        "ON CONFLICT (consumer, msg_id) DO NOTHING RETURNING 1"
    ),
    "inbox: read": "SELECT count(*) FROM bus.inbox",
    "inbox: rewrite when it was processed": "UPDATE bus.inbox SET processed_at_ms = 0",
    "inbox: forget old rows": "DELETE FROM bus.inbox WHERE processed_at_ms < 1000",
    "trading: create a table": "CREATE TABLE trading.intruder (i int)",
    "market_data: create a table": "CREATE TABLE market_data.intruder (i int)",
    "public: create a table": "CREATE TABLE public.intruder (i int)",
}

VIEW_READERS = set(roles.RUNTIME_READER_ROLES) | {roles.LAB_READER, roles.DRIFT_READER}
MARKET_READERS = {roles.DATA_WRITER, roles.LAB_READER, roles.DRIFT_READER}
INBOX_WRITERS = {roles.EXECUTOR, roles.RISK, roles.MANAGER, roles.BOT}

ALLOWED: dict[str, set[str]] = {
    "outbox: append an event": {roles.DATA_WRITER},
    "outbox: append a row already marked published": set(),
    "outbox: append and read back the id": set(),
    "outbox: read": {roles.DRAIN, roles.LAB_READER, roles.DRIFT_READER},
    "outbox: mark published": {roles.DRAIN},
    "outbox: quarantine": {roles.DRAIN},
    "outbox: rewrite a payload": set(),
    "outbox: delete published": {roles.DRAIN},
    "spot_klines: read": MARKET_READERS,
    "perp_klines: read": MARKET_READERS,
    "source_freshness: read": MARKET_READERS,
    "v_klines_reader: read": VIEW_READERS,
    "spot_klines: insert": {roles.DATA_WRITER},
    "spot_klines: upsert": {roles.DATA_WRITER},
    "perp_klines: upsert": {roles.DATA_WRITER},
    "source_freshness: upsert": {roles.DATA_WRITER},
    "spot_klines: delete": set(),
    "inbox: record an event (first_time)": INBOX_WRITERS,
    "inbox: read": INBOX_WRITERS | {roles.DRAIN, roles.LAB_READER, roles.DRIFT_READER},
    "inbox: rewrite when it was processed": set(),
    "inbox: forget old rows": {roles.DRAIN},
    "trading: create a table": set(),
    "market_data: create a table": set(),
    "public: create a table": set(),
}


CASES = cases(ALLOWED, OPERATIONS)


def test_matrix_covers_every_operation() -> None:
    assert ALLOWED.keys() == OPERATIONS.keys()
    assert all(allowed <= set(roles.ALL_ROLES) for allowed in ALLOWED.values())


@pytest.mark.parametrize("role", roles.ALL_ROLES)
async def test_grant_matrix(role: str, database: str, dsn_for: Callable[[str, str], str]) -> None:
    await execute_all(database, SEED)
    assert await mismatches(dsn_for(database, role), role, CASES, OPERATIONS) == []


@pytest.mark.parametrize("role", roles.ALL_ROLES)
async def test_role_logs_in_with_the_platform_search_path(
    role: str, database: str, dsn_for: Callable[[str, str], str]
) -> None:
    conn = await asyncpg.connect(dsn_for(database, role))
    try:
        assert await conn.fetchval("SHOW search_path") == SEARCH_PATH
    finally:
        await conn.close()


async def test_roles_have_no_special_attributes(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, "
            "rolbypassrls FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY rolname",
            list(roles.ALL_ROLES),
        )
    finally:
        await conn.close()
    assert [row["rolname"] for row in rows] == sorted(roles.ALL_ROLES)
    assert all(tuple(row.values())[1:] == (True, False, False, False, False, False) for row in rows)


@pytest.mark.parametrize("role", roles.RUNTIME_READER_ROLES)
async def test_runtime_roles_read_both_markets_through_the_view(
    role: str, database: str, dsn_for: Callable[[str, str], str]
) -> None:
    await execute_all(database, SEED)
    conn = await asyncpg.connect(dsn_for(database, role))
    try:
        rows = await conn.fetch(  # unqualified: found through the role's search_path
            "SELECT market, symbol, open_time_ms, close FROM v_klines_reader ORDER BY market"
        )
    finally:
        await conn.close()
    assert [tuple(row.values()) for row in rows] == [
        ("perp", "BTCUSDT", 0, 1.5),
        ("spot", "BTCUSDT", 0, 1.5),
    ]


async def test_objects_created_later_do_not_leak(database: str, dsn_for: Callable[[str, str], str]) -> None:
    admin = await asyncpg.connect(database)
    try:
        await admin.execute("CREATE TABLE trading.later (i int)")
        await admin.execute("CREATE TABLE market_data.later (i int)")
        await admin.execute("CREATE FUNCTION trading.later_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    finally:
        await admin.close()

    async def run(role: str, sql: str) -> None:
        conn = await asyncpg.connect(dsn_for(database, role))
        try:
            await attempt(conn, sql)
        finally:
            await conn.close()

    await run(roles.LAB_READER, "SELECT * FROM trading.later")
    await run(roles.LAB_READER, "SELECT * FROM market_data.later")
    await run(roles.DATA_WRITER, "INSERT INTO market_data.later VALUES (1)")
    denied = [
        (roles.BOT, "SELECT * FROM trading.later"),
        (roles.EXECUTOR, "SELECT * FROM market_data.later"),
        (roles.LAB_READER, "INSERT INTO trading.later VALUES (1)"),
        (roles.DATA_WRITER, "DELETE FROM market_data.later"),
        (roles.MANAGER, "SELECT trading.later_fn()"),
    ]
    for role, sql in denied:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await run(role, sql)

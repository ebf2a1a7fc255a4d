"""The grant matrix of revision 0010's market data: every role, connected as itself, on every new table
and view; and the lab and drift readers read every relation of every schema and write none.

Runtime services read only the views; gordon_data_writer writes the tables (never through a view) and
deletes nothing; the lab and drift readers SELECT. Denials must be `InsufficientPrivilegeError`.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest

from settings import roles
from tests.grant_matrix import attempt, cases, execute_all, mismatches

SCHEMAS = ["bus", "trading", "market_data", "paper"]

TABLES: dict[str, tuple[str, str, str]] = {
    # table: (columns, a seeded row, a new row)
    "funding_rates": (
        "symbol, funding_time_ms, rate, mark_price",
        "'BTCUSDT', 0, 0.0001, 60000",
        "'BTCUSDT', 28800000, 0.0002, 60100",
    ),
    "open_interest": (
        "symbol, ts_ms, open_interest, open_interest_usd",
        "'BTCUSDT', 0, 1.5, 90000",
        "'BTCUSDT', 3600000, 1.6, 96000",
    ),
    "metrics": ("symbol, metric, ts_ms, value", "'BTCUSDT', 'vpin', 0, 0.3", "'BTCUSDT', 'vpin', 60000, 0.4"),
    "macro_data": ("series, ts_ms, value", "'dxy', 0, 104", "'vix', 0, 18"),
    "fear_greed": ("ts_ms, value, classification", "0, 50, 'neutral'", "86400000, 80, 'extreme_greed'"),
    "stablecoin_supply": ("ts_ms, supply_usd, ssr", "0, 1.6e11, 7.4", "86400000, 1.61e11, 7.3"),
    "gamma_exposure": (
        "symbol, ts_ms, total_gex, flip_price, call_wall, put_wall, regime",
        "'BTCUSDT', 0, 1e6, 59500, 61000, 59000, 'positive'",
        "'BTCUSDT', 3600000, -1e6, NULL, 62000, 58000, 'negative'",
    ),
    "gamma_exposure_strikes": (
        "symbol, ts_ms, strike, gex",
        "'BTCUSDT', 0, 60000, 5e5",
        "'BTCUSDT', 0, 61000, 5e5",
    ),
    "agg_trades": (
        "symbol, agg_id, ts_ms, price, qty, buyer_maker",
        "'BTCUSDT', 1, 0, 60000, 0.1, false",
        "'BTCUSDT', 2, 10, 60001, 0.2, true",
    ),
}

VIEWS: dict[str, str] = {
    "v_metrics_reader": "symbol, metric, ts_ms, value",
    "v_macro_reader": "series, ts_ms, value",
    "v_funding_rates_reader": "symbol, funding_time_ms, rate, mark_price",
    "v_open_interest_reader": "symbol, ts_ms, open_interest, open_interest_usd",
    "v_gex_reader": "symbol, ts_ms, total_gex, flip_price, call_wall, put_wall, regime",
    "v_gex_strikes_reader": "symbol, ts_ms, strike, gex",
}

SEED = [f"INSERT INTO market_data.{t} ({cols}) VALUES ({row})" for t, (cols, row, _) in TABLES.items()]

OPERATIONS: dict[str, str] = {}
ALLOWED: dict[str, set[str]] = {}
READERS = {roles.LAB_READER, roles.DRIFT_READER}
for _table, (_columns, _, _new) in TABLES.items():
    _first = _columns.split(",")[0]
    OPERATIONS[f"{_table}: read"] = f"SELECT count(*) FROM market_data.{_table}"
    OPERATIONS[f"{_table}: insert"] = f"INSERT INTO market_data.{_table} ({_columns}) VALUES ({_new})"
    OPERATIONS[f"{_table}: update"] = f"UPDATE market_data.{_table} SET {_first} = {_first}"
    OPERATIONS[f"{_table}: delete"] = f"DELETE FROM market_data.{_table}"
    ALLOWED[f"{_table}: read"] = {roles.DATA_WRITER} | READERS
    ALLOWED[f"{_table}: insert"] = {roles.DATA_WRITER}
    ALLOWED[f"{_table}: update"] = {roles.DATA_WRITER}
    ALLOWED[f"{_table}: delete"] = set()
for _view, _columns in VIEWS.items():
    _first = _columns.split(",")[0]
    OPERATIONS[f"{_view}: read"] = f"SELECT {_columns} FROM market_data.{_view}"
    OPERATIONS[f"{_view}: update through it"] = f"UPDATE market_data.{_view} SET {_first} = {_first}"
    OPERATIONS[f"{_view}: delete through it"] = f"DELETE FROM market_data.{_view}"
    ALLOWED[f"{_view}: read"] = set(roles.RUNTIME_READER_ROLES) | {roles.DATA_WRITER} | READERS
    ALLOWED[f"{_view}: update through it"] = set()
    ALLOWED[f"{_view}: delete through it"] = set()

CASES = cases(ALLOWED, OPERATIONS)


def test_matrix_covers_every_new_table_and_view() -> None:
    assert ALLOWED.keys() == OPERATIONS.keys()
    assert len(OPERATIONS) == 4 * len(TABLES) + 3 * len(VIEWS)


@pytest.mark.parametrize("role", roles.ALL_ROLES)
async def test_market_data_grant_matrix(role: str, database: str, dsn_for: Callable[[str, str], str]) -> None:
    await execute_all(database, SEED)
    assert await mismatches(dsn_for(database, role), role, CASES, OPERATIONS) == []


@pytest.mark.parametrize("role", roles.RUNTIME_READER_ROLES)
async def test_runtime_roles_see_the_seeded_rows_through_the_views_by_bare_name(
    role: str, database: str, dsn_for: Callable[[str, str], str]
) -> None:
    await execute_all(database, SEED)
    conn = await asyncpg.connect(dsn_for(database, role))
    try:
        metrics = await conn.fetch("SELECT metric, value FROM v_metrics_reader")
        assert [tuple(r.values()) for r in metrics] == [("vpin", 0.3)]
        macro = await conn.fetch("SELECT series, value FROM v_macro_reader")
        assert [tuple(r.values()) for r in macro] == [("dxy", 104.0)]
        assert await conn.fetchval("SELECT rate FROM v_funding_rates_reader") == 0.0001
        assert await conn.fetchval("SELECT open_interest_usd FROM v_open_interest_reader") == 90000.0
        assert await conn.fetchval("SELECT regime FROM v_gex_reader") == "positive"
        assert await conn.fetchval("SELECT gex FROM v_gex_strikes_reader WHERE strike = 60000") == 5e5
    finally:
        await conn.close()


async def relations(dsn: str, kinds: str) -> list[tuple[str, str]]:
    """Every relation of the migrated schemas of one of `kinds` (pg_class.relkind letters), with the
    name of its first column."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT format('%I.%I', n.nspname, c.relname) AS name, "
            "(SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = c.oid AND attnum = 1) AS col "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY($1::text[]) AND c.relkind = ANY($2::char[]) ORDER BY 1",
            SCHEMAS,
            list(kinds),
        )
    finally:
        await conn.close()
    return [(r["name"], r["col"]) for r in rows]


@pytest.mark.parametrize("role", [roles.LAB_READER, roles.DRIFT_READER])
async def test_readers_select_every_relation_of_every_schema_and_write_no_table(
    role: str, database: str, dsn_for: Callable[[str, str], str]
) -> None:
    readable = await relations(database, "rvm")
    tables = await relations(database, "rp")
    assert len(tables) > 20, "the trading, bus, paper and market_data tables are all here"
    conn = await asyncpg.connect(dsn_for(database, role))
    mismatches: list[str] = []
    try:
        for name, _ in readable:
            try:
                await attempt(conn, f"SELECT * FROM {name} LIMIT 1")
            except asyncpg.PostgresError as error:
                mismatches.append(f"SELECT {name}: {type(error).__name__}")
        for name, col in tables:
            for sql in (
                f"INSERT INTO {name} DEFAULT VALUES",
                f"UPDATE {name} SET {col} = {col}",
                f"DELETE FROM {name}",
                f"TRUNCATE {name}",
            ):
                try:
                    await attempt(conn, sql)
                except asyncpg.InsufficientPrivilegeError:
                    continue
                except asyncpg.PostgresError as error:
                    mismatches.append(f"{sql}: {type(error).__name__} instead of a refusal")
                else:
                    mismatches.append(f"{sql}: allowed")
    finally:
        await conn.close()
    assert mismatches == []


async def test_the_drift_reader_sees_every_outbox_row(
    database: str, dsn_for: Callable[[str, str], str]
) -> None:
    owner = await asyncpg.connect(database)
    try:
        await owner.execute(
            "INSERT INTO bus.outbox (event_id, subject, payload, schema_name, schema_version, producer) "
            "VALUES (gen_random_uuid(), 'market.klines.binance.spot.btcusdt.1m', '\\x00', 'Test', 1, 'data')"
        )
    finally:
        await owner.close()
    conn = await asyncpg.connect(dsn_for(database, roles.DRIFT_READER))
    try:
        assert await conn.fetchval("SELECT count(*) FROM bus.outbox") == 1, "row-level security lets it read"
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "row",
    [
        "metrics (symbol, metric, ts_ms, value) VALUES ('BTCUSDT', 'VPIN', 0, 0.1)",
        "metrics (symbol, metric, ts_ms, value) VALUES ('BTCUSDT', 'vpin', 0, 1.5)",
        "metrics (symbol, metric, ts_ms, value) VALUES ('btc/usdt', 'vpin', 0, 0.1)",
        "macro_data (series, ts_ms, value) VALUES ('spx', 0, 1)",
        "fear_greed (ts_ms, value, classification) VALUES (0, 101, 'greed')",
        "fear_greed (ts_ms, value, classification) VALUES (0, 50, 'Neutral')",
        "gamma_exposure (symbol, ts_ms, total_gex, call_wall, put_wall, regime) "
        "VALUES ('BTCUSDT', 0, 1, 2, 1, 'long')",
        "agg_trades (symbol, agg_id, ts_ms, price, qty, buyer_maker) VALUES ('BTCUSDT', 1, 0, 1, 0, true)",
    ],
)
async def test_constraints_refuse_rows_outside_the_conventions(row: str, database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(f"INSERT INTO market_data.{row}")
    finally:
        await conn.close()


async def test_a_gex_profile_needs_its_snapshot_and_goes_with_it(database: str) -> None:
    await execute_all(database, SEED)
    conn = await asyncpg.connect(database)
    try:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute(
                "INSERT INTO market_data.gamma_exposure_strikes VALUES ('BTCUSDT', 999, 60000, 1)"
            )
        await conn.execute("DELETE FROM market_data.gamma_exposure")
        assert await conn.fetchval("SELECT count(*) FROM market_data.gamma_exposure_strikes") == 0
    finally:
        await conn.close()

"""The grant matrix of the trading tables of revision 0011 and of the projections over the fills: each
role, connected as itself, can do exactly what it should, and is refused the rest with
`InsufficientPrivilegeError` (the helpers of tests/test_grant_matrix.py, one rolled-back transaction each).
Also: `trading.increment_fence` hands each bot strictly increasing tokens, distinct under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import pytest

from projections import generations
from projections.catalog import PROJECTIONS
from registry.ids import uuid7
from settings import roles
from tests.grant_matrix import cases, mismatches

BOT = "01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60"
RUN = "01935f0e-8c2a-7b3d-9f10-000000000010"
TRADE = (
    "INSERT INTO trading.trades (trade_id, run_id, bot_id, order_id, venue, symbol, market, side, qty, "
    "price, fee, fee_asset, liquidity, ts_ms) VALUES (gen_random_uuid(), "
    f"'{RUN}', '{BOT}', gen_random_uuid(), 'paper', 'BTCUSDT', 'spot', 'buy', 1, 100, 0.1, 'USDT', "
    "'taker', 5)"
)
SEED = [
    "INSERT INTO trading.bot_configs (bot_id, symbol, market, tf, strategy, created_ms) "
    f"VALUES ('{BOT}', 'BTCUSDT', 'spot', '1m', 'sma_cross', 1)",
    f"INSERT INTO trading.runs (id, bot_id, mode, status, started_ms) VALUES ('{RUN}', '{BOT}', 'paper', "
    "'running', 1)",
    TRADE,
    f"INSERT INTO trading.bot_daily_notional VALUES ('{BOT}', 0, 1)",
    "INSERT INTO trading.global_daily_notional VALUES (0, 1)",
    f"INSERT INTO trading.fences (bot_id, token) VALUES ('{BOT}', 1)",
]
OF_BOT = f"WHERE bot_id = '{BOT}'"
FILLS_VIEWS = ("roundtrips", "equity_points", "performance_snapshots")

OPERATIONS: dict[str, str] = {
    "runs: read": "SELECT count(*) FROM trading.runs",
    "runs: open a run": (
        "INSERT INTO trading.runs (id, bot_id, mode, status, started_ms) "
        "VALUES (gen_random_uuid(), gen_random_uuid(), 'paper', 'running', 1)"
    ),
    "runs: stop a run": f"UPDATE trading.runs SET status = 'stopped', stopped_ms = 2 WHERE id = '{RUN}'",
    "runs: move a run to another bot": "UPDATE trading.runs SET bot_id = gen_random_uuid()",
    "runs: delete": "DELETE FROM trading.runs",
    "trades: read": "SELECT count(*) FROM trading.trades",
    "trades: record a trade": TRADE,
    "trades: rewrite a price": "UPDATE trading.trades SET price = 1",
    "trades: delete": "DELETE FROM trading.trades",
    "fences: read": "SELECT count(*) FROM trading.fences",
    "fences: write a token directly": f"UPDATE trading.fences SET token = 99 {OF_BOT}",
    "increment_fence: draw a token": f"SELECT trading.increment_fence('{BOT}')",
    "bot_configs: set desired_state": f"UPDATE trading.bot_configs SET desired_state = 'paused' {OF_BOT}",
    "bot_configs: change the strategy": f"UPDATE trading.bot_configs SET strategy = 'rsi' {OF_BOT}",
    "bot_configs: change desired_state and params together": (
        f"UPDATE trading.bot_configs SET desired_state = 'paused', params = '{{}}' {OF_BOT}"
    ),
    "signals: read": "SELECT count(*) FROM trading.signals",
    "signals: log a signal": (
        "INSERT INTO trading.signals (id, bot_id, symbol, market, side, candle_open_ms, close, outcome, "
        f"reason, ts_ms) VALUES (gen_random_uuid(), '{BOT}', 'BTCUSDT', 'spot', 'buy', 0, 1, 'suppressed', "
        "'paused', 1)"
    ),
    "signals: rewrite a reason": "UPDATE trading.signals SET reason = 'x'",
    "notional caps: read": "SELECT count(*) FROM trading.bot_notional_caps, trading.global_notional_cap",
    "notional caps: set a bot's cap": f"INSERT INTO trading.bot_notional_caps VALUES ('{BOT}', 10)",
    "notional caps: set the global cap": "INSERT INTO trading.global_notional_cap VALUES (1, 10)",
    "daily notional: read": "SELECT count(*) FROM trading.bot_daily_notional, trading.global_daily_notional",
    "daily notional: count a bot's": (
        f"INSERT INTO trading.bot_daily_notional AS b VALUES ('{BOT}', 0, 5) "
        "ON CONFLICT (bot_id, day_ms) DO UPDATE SET notional = b.notional + 5"
    ),
    "daily notional: count the global": (
        "INSERT INTO trading.global_daily_notional AS g VALUES (0, 5) "
        "ON CONFLICT (day_ms) DO UPDATE SET notional = g.notional + 5"
    ),
    "daily notional: forget a day": "DELETE FROM trading.bot_daily_notional",
    **{f"{v}: read the view": f"SELECT count(*) FROM trading.{v}" for v in FILLS_VIEWS},
    **{f"{v}: delete through the view": f"DELETE FROM trading.{v}" for v in FILLS_VIEWS},
    **{f"{v}: write the live generation": f"DELETE FROM proj_{v}_1.{v}" for v in FILLS_VIEWS},
}

RUN_READERS = {roles.MANAGER, roles.RISK, roles.EXECUTOR, roles.BOT, roles.LAB_READER, roles.DRIFT_READER}
VIEW_READERS = set(generations.VIEW_READERS) | {roles.DRIFT_READER}  # the trading views: 0010

ALLOWED: dict[str, set[str]] = {
    "runs: read": RUN_READERS,
    "runs: open a run": {roles.BOT},
    "runs: stop a run": {roles.BOT},
    "runs: move a run to another bot": set(),
    "runs: delete": set(),
    "trades: read": RUN_READERS,
    "trades: record a trade": {roles.EXECUTOR},
    "trades: rewrite a price": set(),
    "trades: delete": set(),
    "fences: read": {roles.EXECUTOR, roles.LAB_READER, roles.DRIFT_READER},
    "fences: write a token directly": set(),
    "increment_fence: draw a token": {roles.EXECUTOR},
    "bot_configs: set desired_state": {roles.RISK},
    "bot_configs: change the strategy": set(),
    "bot_configs: change desired_state and params together": set(),
    "signals: read": RUN_READERS,
    "signals: log a signal": {roles.BOT},
    "signals: rewrite a reason": set(),
    "notional caps: read": RUN_READERS,
    "notional caps: set a bot's cap": set(),
    "notional caps: set the global cap": set(),
    "daily notional: read": RUN_READERS,
    "daily notional: count a bot's": {roles.EXECUTOR},
    "daily notional: count the global": {roles.EXECUTOR},
    "daily notional: forget a day": set(),
    **{f"{v}: read the view": VIEW_READERS for v in FILLS_VIEWS},
    **{f"{v}: delete through the view": set() for v in FILLS_VIEWS},
    **{f"{v}: write the live generation": {roles.PROJECTOR} for v in FILLS_VIEWS},
}

CASES = cases(ALLOWED, OPERATIONS)


def test_matrix_covers_every_operation() -> None:
    assert ALLOWED.keys() == OPERATIONS.keys()
    assert all(allowed <= set(roles.ALL_ROLES) for allowed in ALLOWED.values())


async def seed(dsn: str) -> None:
    """The rows the operations touch, and the live generations of the fills' read models."""
    conn = await asyncpg.connect(dsn)
    try:
        for statement in SEED:
            await conn.execute(statement)
        for name in FILLS_VIEWS:
            assert await generations.ensure_live(conn, PROJECTIONS[name]) == 1
    finally:
        await conn.close()


@pytest.mark.parametrize("role", roles.ALL_ROLES)
async def test_trading_grant_matrix(role: str, database: str, dsn_for: Callable[[str, str], str]) -> None:
    await seed(database)
    assert await mismatches(dsn_for(database, role), role, CASES, OPERATIONS) == []


async def test_increment_fence_counts_up_per_bot_and_never_repeats_under_concurrency(
    database: str, dsn_for: Callable[[str, str], str]
) -> None:
    dsn = dsn_for(database, roles.EXECUTOR)
    a, b = uuid7(), uuid7()
    conn = await asyncpg.connect(dsn)
    try:
        first = [await conn.fetchval("SELECT trading.increment_fence($1)", a) for _ in range(3)]
        other = await conn.fetchval("SELECT trading.increment_fence($1)", b)
    finally:
        await conn.close()
    assert (first, other) == ([1, 2, 3], 1)

    async def draw(count: int) -> list[int]:
        one = await asyncpg.connect(dsn)
        try:
            return [int(await one.fetchval("SELECT trading.increment_fence($1)", a)) for _ in range(count)]
        finally:
            await one.close()

    drawn = await asyncio.gather(*(draw(10) for _ in range(4)))
    tokens = [t for each in drawn for t in each]
    assert sorted(tokens) == list(range(4, 44)), "40 concurrent draws: each token once, none skipped"
    assert all(each == sorted(each) for each in drawn), "each caller sees its tokens increase"

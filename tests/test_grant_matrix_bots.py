"""The grant matrix of the bots' tables of revision 0013: each role, connected as itself, can do exactly
what it should, and is refused the rest with `InsufficientPrivilegeError` (the helpers of
tests/test_grant_matrix.py, one rolled-back transaction each). Writers: the bot service its leases,
subscriptions and 'started'/'stopped' events; the executor its command events; risk its commands."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest

from settings import roles
from tests.grant_matrix import cases, execute_all, mismatches

BOT = "01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60"
RUN = "01935f0e-8c2a-7b3d-9f10-000000000010"
OTHER_RUN = "01935f0e-8c2a-7b3d-9f10-000000000011"
SEED = [
    f"INSERT INTO trading.runs (id, bot_id, mode, status, started_ms) VALUES ('{RUN}', '{BOT}', 'paper', "
    "'running', 1)",
    f"INSERT INTO trading.runs (id, bot_id, mode, status, started_ms, stopped_ms) VALUES ('{OTHER_RUN}', "
    f"'{BOT}', 'paper', 'stopped', 0, 1)",
    f"INSERT INTO trading.bot_leases VALUES ('{BOT}', 'host:1:a', 1, 1, '{RUN}')",
    f"INSERT INTO trading.symbol_subscriptions VALUES ('{RUN}', '{BOT}', 'BTCUSDT', 'spot', '1m')",
    "INSERT INTO trading.bot_events (id, bot_id, run_id, kind, detail, ts_ms) VALUES "
    f"(gen_random_uuid(), '{BOT}', '{RUN}', 'started', 'run by host:1:a', 1)",
    "INSERT INTO trading.bot_commands (id, command_id, kind, reason, actor, issued_ms) VALUES "
    "(gen_random_uuid(), gen_random_uuid(), 'pause', 'drawdown', 'gordon-risk', 1)",
]
OF_BOT = f"WHERE bot_id = '{BOT}'"

OPERATIONS: dict[str, str] = {
    "bot_leases: read": "SELECT count(*) FROM trading.bot_leases",
    "bot_leases: take over a lease": (
        f"INSERT INTO trading.bot_leases VALUES ('{BOT}', 'host:2:b', 5, 5, '{OTHER_RUN}') "
        "ON CONFLICT (bot_id) DO UPDATE SET holder = EXCLUDED.holder, acquired_ms = EXCLUDED.acquired_ms, "
        "renewed_ms = EXCLUDED.renewed_ms, run_id = EXCLUDED.run_id"
    ),
    "bot_leases: renew": f"UPDATE trading.bot_leases SET renewed_ms = 9 {OF_BOT} AND holder = 'host:1:a'",
    "bot_leases: move to another bot": "UPDATE trading.bot_leases SET bot_id = gen_random_uuid()",
    "bot_leases: remove": f"DELETE FROM trading.bot_leases {OF_BOT} AND holder = 'host:1:a'",
    "symbol_subscriptions: read": "SELECT count(*) FROM trading.symbol_subscriptions",
    "symbol_subscriptions: record": (
        f"INSERT INTO trading.symbol_subscriptions VALUES ('{OTHER_RUN}', '{BOT}', 'BTCUSDT', 'spot', '1m')"
    ),
    "symbol_subscriptions: rewrite a symbol": "UPDATE trading.symbol_subscriptions SET symbol = 'ETHUSDT'",
    "symbol_subscriptions: delete": "DELETE FROM trading.symbol_subscriptions",
    "bot_events: read": "SELECT count(*) FROM trading.bot_events",
    "bot_events: log an event": (
        "INSERT INTO trading.bot_events (id, bot_id, run_id, kind, detail, ts_ms) VALUES "
        f"(gen_random_uuid(), '{BOT}', NULL, 'paused', 'pause x: y', 2)"
    ),
    "bot_events: rewrite a detail": "UPDATE trading.bot_events SET detail = 'x'",
    "bot_events: delete": "DELETE FROM trading.bot_events",
    "bot_commands: read": "SELECT count(*) FROM trading.bot_commands",
    "bot_commands: record a command": (
        "INSERT INTO trading.bot_commands (id, command_id, kind, bot_id, reason, actor, issued_ms) VALUES "
        f"(gen_random_uuid(), gen_random_uuid(), 'flatten', '{BOT}', 'drawdown', 'gordon-risk', 2)"
    ),
    "bot_commands: rewrite a reason": "UPDATE trading.bot_commands SET reason = 'x'",
    "bot_commands: delete": "DELETE FROM trading.bot_commands",
}

LAB = {roles.LAB_READER, roles.DRIFT_READER}  # every relation, by the default privileges of 0001/0010

ALLOWED: dict[str, set[str]] = {
    "bot_leases: read": {roles.BOT, roles.MANAGER} | LAB,
    "bot_leases: take over a lease": {roles.BOT},
    "bot_leases: renew": {roles.BOT},
    "bot_leases: move to another bot": set(),
    "bot_leases: remove": {roles.BOT},
    "symbol_subscriptions: read": {roles.BOT, roles.MANAGER} | LAB,
    "symbol_subscriptions: record": {roles.BOT},
    "symbol_subscriptions: rewrite a symbol": set(),
    "symbol_subscriptions: delete": set(),
    "bot_events: read": {roles.BOT, roles.EXECUTOR, roles.MANAGER} | LAB,
    "bot_events: log an event": {roles.BOT, roles.EXECUTOR},
    "bot_events: rewrite a detail": set(),
    "bot_events: delete": set(),
    "bot_commands: read": {roles.RISK, roles.MANAGER} | LAB,
    "bot_commands: record a command": {roles.RISK},
    "bot_commands: rewrite a reason": set(),
    "bot_commands: delete": set(),
}

CASES = cases(ALLOWED, OPERATIONS)


def test_matrix_covers_every_operation() -> None:
    assert ALLOWED.keys() == OPERATIONS.keys()
    assert all(allowed <= set(roles.ALL_ROLES) for allowed in ALLOWED.values())


@pytest.mark.parametrize("role", roles.ALL_ROLES)
async def test_bot_tables_grant_matrix(role: str, database: str, dsn_for: Callable[[str, str], str]) -> None:
    await execute_all(database, SEED)
    assert await mismatches(dsn_for(database, role), role, CASES, OPERATIONS) == []


async def test_a_runs_rows_go_with_it(database: str) -> None:
    """Leases, subscriptions and events of a run are deleted with it (ON DELETE CASCADE)."""
    await execute_all(database, SEED)
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(f"DELETE FROM trading.runs WHERE id = '{RUN}'")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM trading.bot_leases) AS leases, "
            "(SELECT count(*) FROM trading.symbol_subscriptions) AS subscriptions, "
            "(SELECT count(*) FROM trading.bot_events) AS events, "
            "(SELECT count(*) FROM trading.bot_commands) AS commands"
        )
        assert counts is not None
        assert tuple(counts) == (0, 0, 0, 1)  # a command names no run: it stays
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "INSERT INTO trading.bot_events (id, bot_id, kind, detail, ts_ms) "
                f"VALUES (gen_random_uuid(), '{BOT}', 'Started', '', 1)"
            )
    finally:
        await conn.close()

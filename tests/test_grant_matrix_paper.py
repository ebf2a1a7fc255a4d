"""The grant matrix of schema `paper`, the paper exchange's books (revision 0005) and its fencing tokens
(revision 0014): each role, connected as itself, can do exactly what it should, and is refused the rest
with `InsufficientPrivilegeError` (tests/grant_matrix.py, one rolled-back transaction each). The executor
alone writes them; the lab and drift readers read them; no role deletes from them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from settings import roles
from tests.grant_matrix import cases, execute_all, mismatches

BOT = "01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60"
ORDER = "01935f0e-8c2a-7b3d-9f10-000000000020"
ADMIT = (
    f"INSERT INTO paper.fence_tokens AS f (bot_id, token, seen_ms) VALUES ('{BOT}', 2, 5) "
    "ON CONFLICT (bot_id) DO UPDATE SET token = greatest(f.token, EXCLUDED.token), seen_ms = EXCLUDED.seen_ms"
)
BOOK = (
    "INSERT INTO paper.orders (order_id, bot_id, symbol, side, qty, filled_qty, status, ts_ms, fence_token)"
)
SEED = [
    f"{BOOK} VALUES ('{ORDER}', '{BOT}', 'BTCUSDT', 'buy', 1, 0, 'acked', 1, 1)",
    "INSERT INTO paper.fills (fill_id, order_id, qty, price, fee, fee_asset, ts_ms) "
    f"VALUES (gen_random_uuid(), '{ORDER}', 1, 100, 0.1, 'USDT', 2)",
    f"INSERT INTO paper.fence_tokens (bot_id, token, seen_ms) VALUES ('{BOT}', 1, 1)",
]

OPERATIONS: dict[str, str] = {
    "orders: read": "SELECT count(*) FROM paper.orders",
    "orders: book an order": (
        f"{BOOK} VALUES (gen_random_uuid(), '{BOT}', 'BTCUSDT', 'sell', 1, 0, 'acked', 3, 1)"
    ),
    "orders: fill an order": (
        "UPDATE paper.orders SET filled_qty = 1, status = 'filled', fence_token = 2 "
        f"WHERE order_id = '{ORDER}'"
    ),
    "orders: delete": "DELETE FROM paper.orders",
    "fills: read": "SELECT count(*) FROM paper.fills",
    "fills: book a fill": (
        "INSERT INTO paper.fills (fill_id, order_id, qty, price, fee, fee_asset, ts_ms) "
        f"VALUES (gen_random_uuid(), '{ORDER}', 1, 100, 0.1, 'USDT', 3)"
    ),
    "fills: delete": "DELETE FROM paper.fills",
    "fence_tokens: read": "SELECT count(*) FROM paper.fence_tokens",
    "fence_tokens: admit a newer token": ADMIT,
    "fence_tokens: hold the token seen": (
        f"SELECT token FROM paper.fence_tokens WHERE bot_id = '{BOT}' FOR SHARE"
    ),
    "fence_tokens: forget a bot": "DELETE FROM paper.fence_tokens",
    "paper: create a table": "CREATE TABLE paper.intruder (i int)",
}

READERS = {roles.EXECUTOR, roles.LAB_READER, roles.DRIFT_READER}

ALLOWED: dict[str, set[str]] = {
    "orders: read": READERS,
    "orders: book an order": {roles.EXECUTOR},
    "orders: fill an order": {roles.EXECUTOR},
    "orders: delete": set(),
    "fills: read": READERS,
    "fills: book a fill": {roles.EXECUTOR},
    "fills: delete": set(),
    "fence_tokens: read": READERS,
    "fence_tokens: admit a newer token": {roles.EXECUTOR},
    "fence_tokens: hold the token seen": {roles.EXECUTOR},  # FOR SHARE needs UPDATE (or another write)
    "fence_tokens: forget a bot": set(),
    "paper: create a table": set(),
}

CASES = cases(ALLOWED, OPERATIONS)


def test_matrix_covers_every_operation() -> None:
    assert ALLOWED.keys() == OPERATIONS.keys()
    assert all(allowed <= set(roles.ALL_ROLES) for allowed in ALLOWED.values())


@pytest.mark.parametrize("role", roles.ALL_ROLES)
async def test_paper_grant_matrix(role: str, database: str, dsn_for: Callable[[str, str], str]) -> None:
    await execute_all(database, SEED)
    assert await mismatches(dsn_for(database, role), role, CASES, OPERATIONS) == []

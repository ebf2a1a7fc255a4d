"""`gordon projections status|rebuild|verify` end to end: real servers, the CLI's own parsing and exits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient

from gordon.cli import main
from projections import generations
from projections.catalog import PROJECTIONS
from registry.ids import uuid7
from tests.projecting.helpers import history_has, publish, run_until_caught_up
from tests.projecting.test_rebuild import AT, ORDERS, lifecycle, publish_orders


@pytest.fixture
async def cli(
    database: str,
    nats_url: str,
    dsn_for: Callable[[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Awaitable[tuple[int, str, str]]]:
    """`await cli("projections", ...)` -> (exit code, stdout, stderr), with the servers in the env."""
    conn = await asyncpg.connect(database)
    try:
        await generations.ensure_live(conn, ORDERS)
    finally:
        await conn.close()
    monkeypatch.setenv("GORDON_DATABASE_URL", database)
    monkeypatch.setenv("GORDON_NATS_URL", nats_url)

    async def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = await asyncio.to_thread(main, list(argv))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


async def test_status_shows_generation_tracking_lag_and_halts(
    cli: Callable[..., Awaitable[tuple[int, str, str]]],
    database: str,
    dsn_for: Callable[[str, str], str],
    nats: NatsClient,
    fresh_bus: Callable[[], Awaitable[None]],
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    await publish_orders(js, 3)
    await history_has(js, 12)
    await run_until_caught_up(ORDERS, dsn_for(database, "gordon_projector"), js)
    await publish(js, AT, lifecycle(uuid7())[0])
    await publish(js, AT, lifecycle(uuid7())[0])
    await history_has(js, 14)

    code, out, _ = await cli("projections", "status", "--format", "json")

    assert code == 0
    found = {s["name"]: s for s in json.loads(out)}
    assert set(found) == set(PROJECTIONS)
    assert found["orders"] == {
        "name": "orders",
        "generation": 1,
        "tables": True,
        "last_seq": 12,
        "processed_seq": 12,
        "history_last_seq": 14,
        "pending": 2,
        "halted_seq": None,
        "halted_reason": None,
    }
    others = [s for name, s in found.items() if name != "orders"]
    assert all(s["generation"] is None and s["history_last_seq"] == 14 for s in others)
    code, out, _ = await cli("projections", "status")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "GEN", "LAST", "PROCESSED", "HISTORY", "LAG", "HALTED"]
    assert "orders 1 12 12 14 2 -" in [" ".join(line.split()) for line in lines[1:]]


async def test_rebuild_and_verify_by_name_and_their_exit_codes(
    cli: Callable[..., Awaitable[tuple[int, str, str]]],
    database: str,
    dsn_for: Callable[[str, str], str],
    nats: NatsClient,
    fresh_bus: Callable[[], Awaitable[None]],
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    ids = await publish_orders(js, 5)
    await history_has(js, 20)
    await run_until_caught_up(ORDERS, dsn_for(database, "gordon_projector"), js)

    code, out, err = await cli("projections", "rebuild", "orders")
    assert (code, err) == (0, "")
    assert out.startswith("rebuilt orders: generation 2 (5 rows at seq 20) checked equal to generation 1")

    assert await cli("projections", "verify", "orders") == (
        0,
        "orders: live generation 2 (5 rows) vs a rebuild from history (5 rows) at seq 20: equal\n",
        "",
    )
    conn = await asyncpg.connect(database)
    await conn.execute("UPDATE proj_orders_2.orders SET filled_qty = 0.3 WHERE order_id = $1", ids[0])
    await conn.close()
    code, out, _ = await cli("projections", "verify", "orders")
    assert code == 1
    assert out.splitlines()[1:] == [f"  order_id={ids[0]}: filled_qty: live '0.3' rebuilt '0.30'"]

    code, out, err = await cli("projections", "rebuild", "orders")
    assert (code, out) == (1, "")
    assert err.startswith("gordon projections: rebuild of orders differs from live generation 2 at seq 20")
    assert err.count("\n") == 1


async def test_bad_names_and_missing_settings_are_one_line(
    cli: Callable[..., Awaitable[tuple[int, str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = await cli("projections", "rebuild", "nope")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "argument NAME: invalid choice: 'nope'" in err
    monkeypatch.delenv("GORDON_DATABASE_URL")
    code, _, err = await cli("projections", "verify", "orders")
    assert code == 1
    assert err.startswith(
        "gordon projections: no PostgreSQL server for the projections' tables: GORDON_DATABASE_URL is not "
        "set and no `gordon up` is running with GORDON_DATA_DIR="
    )
    assert err.count("\n") == 1

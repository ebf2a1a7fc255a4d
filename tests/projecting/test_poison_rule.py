"""The poison rule of the projections, tried as a forger would, against a nats-server run with the
generated authorization and a real Postgres: bytes published onto a trading subject of gordon-bus (as
admin, the one user allowed to) reach gordon-history. What does not decode is dead-lettered by the live
runner, logged in as `projector`, and the events behind it are applied; a rebuild and a verify skip it
the same way without a second letter. What decodes but contradicts the write side halts, and nothing is
dead-lettered.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg
import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY as PROMETHEUS

from consumers.dlq_tools import StoredLetter, read_letters, replay
from projections import tracking
from projections.rebuild import rebuild
from projections.runner import ProjectionHalted, Runner, RunnerStats
from projections.verify import verify
from registry import headers as h
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.trading import OrderEventKind
from settings import nats_login
from tests.bus_security.conftest import admin, auth_server  # noqa: F401 - fixtures of the auth server
from tests.bus_security.nats_harness import AuthServer, Login, logged_in
from tests.projecting.helpers import FAST, history_caught_up, history_has, publish, rows
from tests.projecting.test_orders_projection import AT, ORDERS, event, lifecycle

FORGED = b'{"schema_version": 1, "order_id": "forged", "version": 2, "kind": "filled"}'
DLQ = REGISTRY.dead_letters.name
HISTORY = REGISTRY.history.name


async def fold(admin_js: JetStreamContext, projector_js: JetStreamContext, dsn: str) -> RunnerStats:
    """A live runner, reading as the projector, until it has consumed what the history holds."""
    last = await history_caught_up(admin_js)  # the bus's counts are the admin's to read
    return await Runner(ORDERS, dsn, projector_js, REGISTRY, FAST).run(asyncio.Event(), until_seq=last)


async def tracking_of(database: str) -> tracking.Tracking:
    """Generation 1's tracking row."""
    conn = await asyncpg.connect(database)
    try:
        return await tracking.read(conn, "proj_orders_1")
    finally:
        await conn.close()


def skipped() -> float:
    """gordon_projection_undecodable_total of the orders projection."""
    labels = {"projection": ORDERS.name}
    return PROMETHEUS.get_sample_value("gordon_projection_undecodable_total", labels) or 0.0


async def letters(js: JetStreamContext, count: int) -> list[StoredLetter]:
    """The orders projection's dead letters, once `count` are stored (10 s at most)."""
    for _ in range(200):
        found = await read_letters(js, DLQ, ORDERS.consumer)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    return await read_letters(js, DLQ, ORDERS.consumer)


async def test_an_undecodable_event_is_dead_lettered_and_the_events_behind_it_are_applied(
    auth_server: AuthServer,  # noqa: F811
    admin: Login,  # noqa: F811
    projector: str,
    database: str,
) -> None:
    js = admin.client.jetstream()
    a, b = uuid7(), uuid7()
    first, *rest = lifecycle(a)
    await publish(js, AT, first)
    forged = await js.publish(AT, FORGED, headers={h.MSG_ID: "forged-1"})
    for e in [*rest, *lifecycle(b)]:
        await publish(js, AT, e)
    await history_has(js, 9)

    async with logged_in(auth_server, nats_login.PROJECTOR) as reader:
        reading = reader.client.jetstream(timeout=5)
        before = skipped()
        stats = await fold(js, reading, projector)
        assert (stats.applied, stats.undecodable, stats.halted) == (8, 1, None)
        assert skipped() - before == 1
        (letter,) = await letters(js, 1)
        assert letter.consumer == "projection-orders"
        assert (letter.subject, letter.stream, letter.stream_seq) == (AT, HISTORY, forged.seq)
        assert letter.reason.startswith("decode: "), letter.reason
        assert (letter.data, letter.msg_id) == (FORGED, "forged-1")
        got = {
            r["order_id"]: tuple(r)
            for r in await rows(database, "SELECT order_id, status, version FROM trading.orders")
        }
        assert got == {a: (a, "filled", 4), b: (b, "filled", 4)}
        state = await tracking_of(database)
        assert (state.last_seq, state.halted_seq) == (9, None), "the tracking row passes the dead letter"

        # A verify and a rebuild, as the projector, skip it the same way: equal, and no second letter.
        checked = await verify(database, projector, reading, ORDERS, config=FAST)
        assert checked.equal, checked.lines()
        assert (checked.seq, checked.rebuilt_rows) == (9, 2)
        rebuilt = await rebuild(database, projector, reading, ORDERS, config=FAST)
        assert (rebuilt.compared, rebuilt.seq, rebuilt.rows) == (True, 9, 2)
        assert (await js.stream_info(DLQ)).state.messages == 1
        assert reader.violations() == []

    # `gordon dlq replay` sends it back through gordon-bus; it is dead-lettered again, nothing else.
    done = await replay(js, DLQ, letter)
    assert done.stream == REGISTRY.bus.name
    async with logged_in(auth_server, nats_login.PROJECTOR) as reader:
        again = await Runner(ORDERS, projector, reader.client.jetstream(timeout=5), REGISTRY, FAST).run(
            asyncio.Event(), until_seq=await history_caught_up(js)
        )
    assert (again.applied, again.undecodable) == (0, 1)
    (copy,) = await letters(js, 1)
    assert copy.msg_id == f"forged-1:replay:{letter.seq}"


async def test_a_forged_event_that_decodes_but_contradicts_the_write_side_halts(
    auth_server: AuthServer,  # noqa: F811
    admin: Login,  # noqa: F811
    projector: str,
    database: str,
) -> None:
    js = admin.client.jetstream()
    a: UUID = uuid7()
    await publish(js, AT, event(a, 1, OrderEventKind.SUBMITTED))
    await publish(js, AT, event(a, 2, OrderEventKind.FILLED, "0.30"))  # forged: filled before acked
    await publish(js, AT, event(uuid7(), 1, OrderEventKind.SUBMITTED))
    await history_has(js, 3)

    async with logged_in(auth_server, nats_login.PROJECTOR) as reader:
        reading = reader.client.jetstream(timeout=5)
        with pytest.raises(ProjectionHalted, match="IllegalTransition") as halted:
            await fold(js, reading, projector)
        assert halted.value.seq == 2
        state = await tracking_of(database)
        assert (state.last_seq, state.halted_seq) == (1, 2)
        (row,) = await rows(database, "SELECT status, version FROM trading.orders")
        assert tuple(row) == ("submitted", 1), "nothing after the contradicting event is applied"

        # A rebuild folds the same history the same way: equal to the live one at seq 1, where it
        # stopped; the live runner on the new generation halts on the same event.
        rebuilt = await rebuild(database, projector, reading, ORDERS, config=FAST)
        assert (rebuilt.new, rebuilt.seq, rebuilt.rows) == (2, 1, 1)
        with pytest.raises(ProjectionHalted, match="IllegalTransition") as again:
            await fold(js, reading, projector)
        assert again.value.seq == 2
        assert reader.violations() == []
    assert (await js.stream_info(DLQ)).state.messages == 0, "a contradiction is no dead letter"

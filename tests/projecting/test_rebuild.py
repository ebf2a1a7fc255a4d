"""Rebuild and verify against real servers: beside a live runner under writes, after the tables were
dropped, refused when history is gone, and differences reported row by row."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from nats import errors as nats_errors
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from projections import compare, generations, tracking
from projections.orders import OrdersProjection
from projections.rebuild import RebuildRefused, rebuild
from projections.runner import Runner
from projections.verify import verify
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.common import Market, OrderType, Side, bot_token
from schemas.trading import OrderEvent, OrderEventKind
from tests.projecting.helpers import FAST, history_has, publish, rows, run_until_caught_up

ORDERS = OrdersProjection()
BOT = uuid7()
AT = f"trading.orders.{bot_token(BOT)}"
HISTORY = REGISTRY.history.name
KINDS = (
    (OrderEventKind.SUBMITTED, "0"),
    (OrderEventKind.ACKED, "0"),
    (OrderEventKind.PARTIALLY_FILLED, "0.10"),
    (OrderEventKind.FILLED, "0.30"),
)


def lifecycle(order_id: UUID) -> list[OrderEvent]:
    return [
        OrderEvent(
            order_id=order_id,
            version=v,
            kind=kind,
            bot_id=BOT,
            intent_id=order_id,
            symbol="ETHUSDT",
            market=Market.PERP,
            side=Side.SELL,
            order_type=OrderType.LIMIT,
            qty=Decimal("0.30"),
            limit_price=2500.5,
            filled_qty=Decimal(filled),
            ts_ms=5000 + v,
        )
        for v, (kind, filled) in enumerate(KINDS, start=1)
    ]


async def publish_orders(js: JetStreamContext, count: int) -> list[UUID]:
    """`count` complete order lifecycles, interleaved two orders at a time."""
    ids = [uuid7() for _ in range(count)]
    for a, b in zip(ids[::2], ids[1::2], strict=False):
        for x, y in zip(lifecycle(a), lifecycle(b), strict=True):
            await publish(js, AT, x)
            await publish(js, AT, y)
    if count % 2:
        for e in lifecycle(ids[-1]):
            await publish(js, AT, e)
    return ids


async def owner_do(dsn: str, work: Callable[[asyncpg.Connection], Awaitable[object]]) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await work(conn)
    finally:
        await conn.close()


async def test_rebuild_beside_a_live_runner_under_writes_swaps_in_an_equal_generation(
    projector: str, database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    before = await publish_orders(js, 150)
    await history_has(js, 600)
    stop = asyncio.Event()
    live = Runner(ORDERS, projector, js, REGISTRY, FAST)
    live_task = asyncio.create_task(live.run(stop))

    rebuilt = asyncio.Event()

    async def keep_writing() -> list[UUID]:
        written = []
        while not rebuilt.is_set():
            written += await publish_orders(js, 4)
            await asyncio.sleep(0.01)
        return written + await publish_orders(js, 4)  # and some after the swap

    writer = asyncio.create_task(keep_writing())
    try:
        await asyncio.sleep(0.1)
        try:
            done = await rebuild(database, projector, js, ORDERS, config=FAST)
        finally:
            rebuilt.set()
        during = await writer
        assert done.compared
        assert (done.old, done.new) == (1, 2)
        assert done.seq > 0
        total = len(before) + len(during)
        last = (await js.stream_info(HISTORY)).state.last_seq
        assert last == 4 * total
        for _ in range(300):  # the live runner moved to generation 2 and folds what came after
            state = await owner_do(database, lambda c: tracking.read(c, "proj_orders_2"))
            if isinstance(state, tracking.Tracking) and state.processed_seq == last:
                break
            await asyncio.sleep(0.02)
        assert live.stats.generation == 2
        assert not live_task.done()
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(live_task, 10)
    got = await rows(
        database, "SELECT status, filled_qty, version, count(*) FROM trading.orders GROUP BY 1, 2, 3"
    )
    assert [tuple(r) for r in got] == [("filled", Decimal("0.30"), 4, total)]
    assert not await owner_do(database, lambda c: generations.exists(c, "proj_orders_1"))
    assert await owner_do(database, lambda c: generations.live_generation(c, ORDERS)) == 2
    checked = await verify(database, projector, js, ORDERS, config=FAST)
    assert checked.equal
    assert checked.live_rows == total


async def test_dropped_tables_are_rebuilt_from_history_identical_to_before(
    projector: str, database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    ids = await publish_orders(js, 25)
    await publish(js, AT, lifecycle(ids[0])[1], msg_id=str(uuid7()))  # a late duplicate
    await history_has(js, 101)
    await run_until_caught_up(ORDERS, projector, js)
    hash_before = await owner_do(database, lambda c: compare.table_hash(c, "proj_orders_1", ORDERS))
    view_before = await rows(database, "SELECT * FROM trading.orders ORDER BY order_id")
    await owner_do(database, lambda c: c.execute("DROP SCHEMA proj_orders_1 CASCADE"))

    done = await rebuild(database, projector, js, ORDERS, config=FAST)

    assert not done.compared
    assert (done.old, done.new, done.seq, done.rows) == (1, 2, 101, 25)
    assert await owner_do(database, lambda c: compare.table_hash(c, "proj_orders_2", ORDERS)) == hash_before
    assert await rows(database, "SELECT * FROM trading.orders ORDER BY order_id") == view_before
    assert str(hash_before).startswith("25:")


async def test_rebuild_refuses_when_history_has_fallen_off_or_is_gone(
    projector: str, database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    await publish_orders(js, 1)
    await history_has(js, 4)
    await js.delete_msg(HISTORY, 2)
    with pytest.raises(RebuildRefused, match="gordon-history has 1 deleted message"):
        await rebuild(database, projector, js, ORDERS, config=FAST)
    await js.delete_msg(HISTORY, 1)
    with pytest.raises(RebuildRefused) as refused:
        await rebuild(database, projector, js, ORDERS, config=FAST)
    assert str(refused.value) == (
        "cannot rebuild orders: gordon-history starts at seq 3, events 1..2 have fallen off "
        "and no stream holds them"
    )
    await js.delete_stream(HISTORY)
    with pytest.raises(RebuildRefused, match="stream gordon-history does not exist"):
        await verify(database, projector, js, ORDERS, config=FAST)
    schemas = await rows(database, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'proj_orders_%'")
    assert [r[0] for r in schemas] == ["proj_orders_1"], "a refusal leaves the live generation alone"


async def test_verify_reports_a_tampered_row_and_rebuild_refuses_to_swap(
    projector: str, database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    ids = await publish_orders(js, 6)
    await history_has(js, 24)
    await run_until_caught_up(ORDERS, projector, js)
    assert (await verify(database, projector, js, ORDERS, config=FAST)).equal
    tampered = sorted(ids)[2]
    await owner_do(
        database,
        lambda c: c.execute(
            "UPDATE proj_orders_1.orders SET status = 'cancelled' WHERE order_id = $1", tampered
        ),
    )

    found = await verify(database, projector, js, ORDERS, config=FAST)

    assert not found.equal
    assert (found.seq, found.live_rows, found.rebuilt_rows) == (24, 6, 6)
    (difference,) = found.differences
    assert difference.key == {"order_id": str(tampered)}
    assert (difference.live, difference.rebuilt) == ({"status": "cancelled"}, {"status": "filled"})
    assert f"order_id={tampered}: status: live 'cancelled' rebuilt 'filled'" in found.lines()[1]
    with pytest.raises(
        RebuildRefused, match=f"1 key\\(s\\) differ \\({tampered}\\); the live generation stays"
    ):
        await rebuild(database, projector, js, ORDERS, config=FAST)
    assert await owner_do(database, lambda c: generations.live_generation(c, ORDERS)) == 1
    schemas = await rows(database, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'proj_orders_%'")
    assert [r[0] for r in schemas] == ["proj_orders_1"]


class FirstFetchTimesOut:
    """A pull subscription whose first fetch times out, as nats-py's does when the first delivery takes
    longer than the fetch wait (a busy machine); everything else is the real subscription's."""

    def __init__(self, sub: Any) -> None:
        self.sub = sub
        self.timed_out = False

    async def fetch(self, batch: int, timeout: float) -> Any:  # noqa: ASYNC109 - nats-py's signature
        if not self.timed_out:
            self.timed_out = True
            raise nats_errors.TimeoutError
        return await self.sub.fetch(batch, timeout=timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sub, name)


class SlowStart(Runner[UUID, Any]):
    async def _subscribe(self, start_seq: int) -> Any:
        return FirstFetchTimesOut(await super()._subscribe(start_seq))


async def test_a_rebuild_whose_first_fetch_times_out_still_folds_up_to_its_sequence(
    projector: str, database: str, nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    await publish_orders(js, 5)
    await history_has(js, 20)
    last = (await js.stream_info(HISTORY)).state.last_seq
    await owner_do(database, lambda c: generations.create(c, ORDERS, 2))
    runner = SlowStart(ORDERS, projector, js, REGISTRY, FAST, generation=2)
    stats = await runner.run(asyncio.Event(), until_seq=last)
    assert (stats.applied, stats.processed_seq) == (20, last)
    state = await owner_do(database, lambda c: tracking.read(c, "proj_orders_2"))
    assert isinstance(state, tracking.Tracking)
    assert (state.last_seq, state.processed_seq) == (last, last)

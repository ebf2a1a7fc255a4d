"""The soak's producer: executor-shaped order lifecycles and fills written through the outbox at a fixed rate.

Each writer connection owns one bot and one market, so its events are in per-aggregate order by
construction: an order goes submitted → acked → partially filled → filled, with a fill after each of the
last two (6 events per order), and fills carry the bot's gapless version. Every event is one
`publish_within` transaction, committed on a fixed schedule; the commit time is noted when the commit
returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from producers.channels import FILLS, ORDERS
from producers.outbox import Outbox
from registry.event import Event
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import Market, OrderType, Side, bot_token
from schemas.trading import Fill, Liquidity, OrderEvent, OrderEventKind

SYMBOL = "BTCUSDT"
STEPS = (
    (OrderEventKind.SUBMITTED, Decimal("0"), None),
    (OrderEventKind.ACKED, Decimal("0"), None),
    (OrderEventKind.PARTIALLY_FILLED, Decimal("0.010"), Decimal("0.010")),
    (OrderEventKind.FILLED, Decimal("0.030"), Decimal("0.020")),
)
EVENTS_PER_ORDER = len(STEPS) + sum(1 for *_, fill in STEPS if fill is not None)


@dataclass
class Written:
    """What the writers committed: commit time (ns) per event id, and what the projections must show
    (each order's last version, each bot's fill count)."""

    committed_ns: dict[str, int] = field(default_factory=dict)
    orders: dict[UUID, int] = field(default_factory=dict)
    fills: dict[UUID, int] = field(default_factory=dict)
    order_versions: dict[UUID, int] = field(default_factory=dict)
    order_ids: set[str] = field(default_factory=set)
    fill_ids: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


def lifecycle(bot: UUID, order_no: int, fill_version: int, now_ms: int) -> Iterator[tuple[Any, Event]]:
    """The (address, event) pairs of one order of `bot`, fills numbered from `fill_version`."""
    side = Side.BUY if order_no % 2 == 0 else Side.SELL
    order_id = uuid7()
    token = bot_token(bot)
    for version, (kind, filled, fill_qty) in enumerate(STEPS, start=1):
        yield (
            ORDERS(bot_id=token),
            OrderEvent(
                order_id=order_id,
                version=version,
                kind=kind,
                bot_id=bot,
                intent_id=order_id,
                symbol=SYMBOL,
                market=Market.PERP,
                side=side,
                order_type=OrderType.MARKET,
                qty=Decimal("0.030"),
                filled_qty=filled,
                ts_ms=now_ms,
            ),
        )
        if fill_qty is not None:
            yield (
                FILLS(bot_id=token),
                Fill(
                    fill_id=uuid7(),
                    bot_id=bot,
                    order_id=order_id,
                    version=fill_version,
                    symbol=SYMBOL,
                    market=Market.PERP,
                    side=side,
                    qty=fill_qty,
                    price=94_000.0 + (order_no % 50),
                    fee=Decimal("0.0001"),
                    fee_asset="USDT",
                    liquidity=Liquidity.TAKER,
                    ts_ms=now_ms,
                ),
            )
            fill_version += 1


async def write_at(dsn: str, rate: float, seconds: float, writers: int, out: Written) -> None:
    """`writers` connections together commit `rate` events/s for `seconds` on a fixed schedule (a writer
    that fell behind catches up; none runs ahead)."""
    outbox = Outbox(REGISTRY, Service.EXECUTOR)
    conns = [await asyncpg.connect(dsn) for _ in range(writers)]
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    interval = writers / rate

    async def writer(i: int, conn: asyncpg.Connection) -> None:
        bot = uuid7()
        out.orders[bot] = out.fills[bot] = 0
        k = 0
        while True:
            for address, event in lifecycle(
                bot, out.orders[bot], out.fills[bot] + 1, time.time_ns() // 10**6
            ):
                due = start + (i / writers + k) * interval
                if due >= start + seconds:
                    return
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                async with conn.transaction():
                    await outbox.publish_within(conn, address, event)
                key = str(event.event_id)
                out.committed_ns[key] = time.time_ns()
                if isinstance(event, Fill):
                    out.fills[bot] += 1
                    out.fill_ids.add(key)
                else:
                    assert isinstance(event, OrderEvent)
                    out.order_versions[event.order_id] = event.version
                    out.order_ids.add(key)
                k += 1
            out.orders[bot] += 1

    try:
        results = await asyncio.gather(*(writer(i, c) for i, c in enumerate(conns)), return_exceptions=True)
        out.failures.extend(f"writer: {r!r}" for r in results if isinstance(r, BaseException))
    finally:
        for conn in conns:
            await conn.close()

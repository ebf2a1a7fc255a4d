"""Order events for the replay benchmark: generated lazily, published in bulk, read back raw.

Orders go through submitted, acked, partially filled, filled; a window of orders advances one step at a
time, so a runner batch touches many aggregates (as a busy executor would), across eight bots.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import PubAck

from registry import headers as h
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.common import Market, OrderType, Side, bot_token
from schemas.trading import ORDERS, OrderEvent, OrderEventKind

STEPS = (
    (OrderEventKind.SUBMITTED, Decimal("0")),
    (OrderEventKind.ACKED, Decimal("0")),
    (OrderEventKind.PARTIALLY_FILLED, Decimal("0.10")),
    (OrderEventKind.FILLED, Decimal("0.30")),
)
BOTS = [uuid7() for _ in range(8)]
WINDOW = 250
FILTER = ORDERS.template.wildcard()
LIFTED_MSGS = 512 * 1024
LIFTED_BYTES = 256 * 1024 * 1024

Message = tuple[str, bytes, dict[str, str]]


def order_events(n: int) -> Iterator[Message]:
    """`n` encoded order events (whole lifecycles, so `n` is rounded up to a multiple of 4)."""
    codec = REGISTRY.codec(ORDERS)
    base = OrderEvent(
        order_id=uuid7(),
        version=1,
        kind=OrderEventKind.SUBMITTED,
        bot_id=BOTS[0],
        intent_id=uuid7(),
        symbol="BTCUSDT",
        market=Market.PERP,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.30"),
        limit_price=94_250.5,
        filled_qty=Decimal("0"),
        ts_ms=1_767_225_600_000,
    )
    made = 0
    while made < n:
        window = [(uuid7(), BOTS[i % len(BOTS)]) for i in range(WINDOW)]
        for version, (kind, filled) in enumerate(STEPS, start=1):
            for order_id, bot in window:
                event = base.model_copy(
                    update={
                        "event_id": uuid7(),
                        "order_id": order_id,
                        "intent_id": order_id,
                        "bot_id": bot,
                        "version": version,
                        "kind": kind,
                        "filled_qty": filled,
                    }
                )
                subject = f"trading.orders.{bot_token(bot)}"
                yield subject, codec.encode(event), {h.MSG_ID: str(event.event_id)}
        made += WINDOW * len(STEPS)


async def publish_bulk(client: NatsClient, messages: Iterator[Message], window: int = 4000) -> int:
    """Publish with `publish_async`, `window` acks outstanding at most; returns how many."""
    js = client.jetstream()
    count = 0
    futures: list[asyncio.Future[PubAck]] = []
    for subject, payload, headers in messages:
        futures.append(await js.publish_async(subject, payload, headers=headers, stream=REGISTRY.bus.name))
        count += 1
        if len(futures) >= window:
            await asyncio.gather(*futures)
            futures = []
    await asyncio.gather(*futures)
    return count


async def history_holds(js: JetStreamContext, count: int, timeout_s: float = 300.0) -> int:
    """Wait until gordon-history holds `count` messages; returns its last sequence."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = (await js.stream_info(REGISTRY.history.name)).state
        if state.messages >= count:
            return int(state.last_seq)
        await asyncio.sleep(0.05)
    raise TimeoutError(f"gordon-history never reached {count} messages")


async def raw_read_rate(js: JetStreamContext, n: int, pending_msgs: int = LIFTED_MSGS) -> float:
    """Events/s of an ordered push consumer reading the first `n` order events from gordon-history, not
    decoded. Its pending limit is large: at the runner's 16,000 nats-py drops messages as a slow consumer
    and the ordered consumer's resets cut the rate to ~6k/s (measured)."""
    sub = await js.subscribe(
        FILTER,
        stream=REGISTRY.history.name,
        ordered_consumer=True,
        idle_heartbeat=2.0,
        pending_msgs_limit=pending_msgs,
        pending_bytes_limit=LIFTED_BYTES,
    )
    last = 0
    start = time.perf_counter()
    try:
        for _ in range(n):
            msg = await sub.next_msg(timeout=10)
            assert msg.data
            assert msg.metadata.sequence.stream > last
            last = msg.metadata.sequence.stream
        return n / (time.perf_counter() - start)
    finally:
        await sub.unsubscribe()

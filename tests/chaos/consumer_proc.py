"""A consumer for the chaos suite, in its own process so it can be SIGKILLed:
`python -m tests.chaos.consumer_proc` with GORDON_NATS_URL and GORDON_DATABASE_URL set.

It reads `trading.orders.*` through a durable with a short ack wait, and for each delivery commits,
in one transaction, the inbox row, a `chaos.seen` row (deliveries, first time or not) and, the first
time only, its effect (a `chaos.effects` row). Anything that fails (the database or NATS restarting)
drops the delivery unacked and starts over: the ack wait brings it back.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import asyncpg

from consumers.consumer import Consumer
from consumers.inbox import first_time
from producers.drain.runner import connect_nats
from registry.registry import Registry
from registry.subject import ConsumerSpec, Service, Subject
from schemas import streams
from schemas.common import BOT_ID
from schemas.trading import OrderEvent
from settings.environment import Settings

log = logging.getLogger("chaos.consumer")

CHAOS_ORDERS = Subject(
    "trading.orders.{bot_id}",
    OrderEvent,
    producer=Service.EXECUTOR,
    params=(BOT_ID,),
    consumers=(
        ConsumerSpec(Service.MANAGER, "chaos-orders", max_deliver=100, ack_wait_s=2.0, backoff_s=(0.2,)),
    ),
)
CHAOS_REGISTRY = Registry((CHAOS_ORDERS,), streams.ALL, streams.BUS, streams.HISTORY, streams.DLQ)

TABLES = (
    "CREATE SCHEMA IF NOT EXISTS chaos",
    "CREATE TABLE IF NOT EXISTS chaos.seen "
    "(event_id uuid NOT NULL, deliveries int NOT NULL, fresh bool NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chaos.effects (event_id uuid NOT NULL)",
)
SEEN = "INSERT INTO chaos.seen (event_id, deliveries, fresh) VALUES ($1, $2, $3)"
EFFECT = "INSERT INTO chaos.effects (event_id) VALUES ($1)"


async def consume(nats_url: str, dsn: str, stop: asyncio.Event) -> None:
    client = await connect_nats(nats_url, "chaos-consumer")
    conn: asyncpg.Connection | None = None
    while not stop.is_set():
        consumer: Consumer[OrderEvent] | None = None
        try:
            consumer = await Consumer.open(client.jetstream(), CHAOS_REGISTRY, CHAOS_ORDERS, Service.MANAGER)
            while not stop.is_set():
                try:
                    delivery = await consumer.next(timeout=1.0)
                except TimeoutError:
                    continue
                if conn is None or conn.is_closed():
                    conn = await asyncpg.connect(dsn, timeout=5)
                event_id = delivery.event.event_id
                async with conn.transaction():
                    fresh = await first_time(conn, consumer.durable, event_id)
                    await conn.execute(SEEN, event_id, delivery.deliveries, fresh)
                    if fresh:
                        await conn.execute(EFFECT, event_id)
                await delivery.ack()
        except Exception as exc:  # a chaos victim: say what happened and start over
            log.warning("consumer: %s: %s; starting over", type(exc).__name__, exc)
            if conn is not None:
                conn.terminate()
            conn = None
            await asyncio.sleep(0.3)
        finally:
            if consumer is not None:
                try:
                    await consumer.close()
                except Exception as exc:  # the connection may be gone already
                    log.info("consumer: close: %s", exc)
    await client.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    if not settings.nats_url or not settings.database_url:
        raise SystemExit("GORDON_NATS_URL and GORDON_DATABASE_URL must be set")
    nats_url, dsn = settings.nats_url, settings.database_url

    async def run() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await consume(nats_url, dsn, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()

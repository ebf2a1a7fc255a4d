"""The faststream-outbox relay as `bench.peer` runs it, in its own throwaway venv (never gordon's): fill
its outbox table with `n` kline rows, relay them to a JetStream stream, print one JSON line with the rate.

Tuned as the package's performance guide says: batched terminal deletes (`terminal_flush_batch_size`),
more workers and larger fetches (`max_workers`, `fetch_batch_size`, with a pool that covers them), its
autovacuum DDL on the table; each row carries a Nats-Msg-Id header (propagated) so JetStream dedups as
it does for gordon. Not imported by the project: its imports exist only in the peer venv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from faststream.nats import JStream, NatsBroker
from faststream_outbox import OutboxBroker, make_outbox_table, outbox_autovacuum_ddl
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

TABLE = "peer_outbox"
QUEUE = "klines"

FILL = f"""
INSERT INTO {TABLE} (queue, payload, headers)
SELECT '{QUEUE}', decode(:payload, 'hex'), jsonb_build_object(
    'Nats-Msg-Id', gen_random_uuid()::text, 'Gordon-Schema', 'Kline:v1', 'Gordon-Source', 'data',
    'Content-Type', 'application/json', 'Gordon-Trace', 'peer-' || g)
FROM generate_series(1, :n) g
"""


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True, help="postgresql+asyncpg:// URL")
    parser.add_argument("--nats", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--subject", required=True)
    parser.add_argument("--payload-hex", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--fetch", type=int, default=100)
    parser.add_argument("--flush", type=int, default=100)
    args = parser.parse_args()

    engine = create_async_engine(args.dsn, pool_size=args.workers + 4, max_overflow=4)
    metadata = MetaData()
    table = make_outbox_table(metadata, TABLE)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(text(outbox_autovacuum_ddl(TABLE)))
        await conn.execute(text(FILL), {"payload": args.payload_hex, "n": args.n})
        await conn.execute(text(f"ANALYZE {TABLE}"))

    outbox = OutboxBroker(engine, outbox_table=table, logger=None)
    nats_broker = NatsBroker(args.nats, logger=None)
    publisher = nats_broker.publisher(args.subject, stream=JStream(args.stream, declare=False))

    @publisher
    @outbox.subscriber(
        QUEUE,
        max_workers=args.workers,
        fetch_batch_size=args.fetch,
        terminal_flush_batch_size=args.flush,
        min_fetch_interval=0.001,
        max_fetch_interval=0.05,
        propagate_inbound_headers=True,
    )
    async def relay(body: dict[str, object]) -> dict[str, object]:  # the guide's relay shape
        return body

    await nats_broker.start()
    start = time.perf_counter()
    await outbox.start()
    try:
        async with engine.connect() as conn:
            while await conn.scalar(text(f"SELECT count(*) FROM {TABLE}")):
                await conn.commit()
                await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
    finally:
        await outbox.stop()
        await nats_broker.stop()
        await engine.dispose()
    print(
        json.dumps(
            {
                "n": args.n,
                "seconds": elapsed,
                "rate": args.n / elapsed,
                "workers": args.workers,
                "fetch": args.fetch,
                "flush": args.flush,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())

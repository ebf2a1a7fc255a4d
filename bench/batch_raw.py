"""Raw batch-publishing rates on the protocol alone (no outbox, no Postgres), for the drain benchmark's table:
fast-ingest batches through the drain's own `FastBatches`, and atomic batches (`allow_atomic`, the
Nats-Batch-Id/-Sequence/-Commit headers) written here on core publish, since the drain does not use them.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from producers.drain.batch import FastBatches
from producers.drain.store import Row

ATOMIC_MAX = 1000
"""Messages per atomic batch: the server's limit."""


def rows_of(messages: list[tuple[str, bytes, dict[str, str]]]) -> list[Row]:
    """Drain rows carrying the benchmark's messages (headers ride as the row's extra headers)."""
    out = []
    for i, (subject, payload, headers) in enumerate(messages, 1):
        extra = {k: v for k, v in headers.items() if k != "Nats-Msg-Id"}
        out.append(
            Row(i, headers["Nats-Msg-Id"], subject, payload, json.dumps(extra), "Kline", 1, "data", None)
        )
    return out


async def fast_rate(
    client: NatsClient, stream: str, messages: list[tuple[str, bytes, dict[str, str]]], size: int, flow: int
) -> float:
    """Events/s of `FastBatches` alone: batches of `size` one after another, each landed before the next."""
    rows = rows_of(messages)
    batches = FastBatches(client, stream, flow=flow, window=4, ack_timeout_s=10.0)
    await batches.start()
    try:
        start = time.perf_counter()
        for i in range(0, len(rows), size):
            result = await batches.land(await batches.launch(rows[i : i + size]))
            assert result.failure is None, result.failure
        return len(rows) / (time.perf_counter() - start)
    finally:
        await batches.stop()


async def atomic_rate(
    client: NatsClient, stream: str, messages: list[tuple[str, bytes, dict[str, str]]], every: int = 0
) -> float:
    """Events/s of atomic batches of 1000 (the server's cap), each committed and acked before the next;
    the first message and the commit are requests, and every `every`-th one too when set."""
    inbox = client.new_inbox()
    acks: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    async def on_ack(msg: Msg) -> None:
        frame = json.loads(msg.data) if msg.data else {}
        if "stream" in frame or "error" in frame:
            await acks.put(frame)

    sub = await client.subscribe(inbox, cb=on_ack)
    try:
        start = time.perf_counter()
        for i in range(0, len(messages), ATOMIC_MAX):
            chunk = messages[i : i + ATOMIC_MAX]
            batch_id = uuid.uuid4().hex
            for seq, (subject, payload, headers) in enumerate(chunk, 1):
                wire = {**headers, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(seq)}
                if seq == len(chunk):
                    wire["Nats-Batch-Commit"] = "1"
                asks = seq in (1, len(chunk)) or (every and seq % every == 0)
                await client.publish(subject, payload, reply=inbox if asks else "", headers=wire)
            frame = await asyncio.wait_for(acks.get(), 10)
            assert "error" not in frame, frame
        return len(messages) / (time.perf_counter() - start)
    finally:
        await sub.unsubscribe()

"""What metrics and tracing cost the consume path: a service's subscriber with its broker's middlewares
(FastStream's OpenTelemetry and Prometheus middlewares, `services/instrumentation.py`) against the same
subscriber on a bare broker, both through the one consume path (decode, ack, the consume counters).

A backlog of klines (each with a `traceparent`, as the drain sends them) published while `risk-klines`
was away is consumed by a no-op handler; throughput = messages / seconds until the last is acked. The runs
alternate and the best of each is kept. The closing ratio is instrumented ÷ bare throughput (goal ≥ 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

import nats
from faststream.nats import NatsBroker

from bench.report import closing_line, record
from bench.samples import samples
from bench.servers import bench_servers
from consumers.subscription import subscriber
from registry import headers as h
from registry.ids import uuid7
from registry.subject import Service
from schemas import REGISTRY
from schemas.market import KLINES, Kline
from services import instrumentation

GOAL = 0.8
SUBJECT = "market.klines.binance.spot.btcusdt.1m"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def publish_backlog(url: str, count: int) -> None:
    """`count` klines on gordon-bus, each with its own Msg-Id and a trace context."""
    client = await nats.connect(url)
    js = client.jetstream()
    codec = REGISTRY.codec(KLINES)
    kline = samples()[Kline]
    acks = []
    for _ in range(count):
        event = kline.model_copy(update={"event_id": uuid7()})
        headers = {h.MSG_ID: str(event.event_id), h.TRACE_ID: TRACEPARENT}
        acks.append(await js.publish_async(SUBJECT, codec.encode(event, SUBJECT), headers=headers))
    await asyncio.gather(*acks)
    await client.close()


async def consume(url: str, count: int, middlewares: Sequence[Any]) -> float:
    """Seconds for `risk-klines` to handle a backlog of `count` messages published while it was away."""
    client = await nats.connect(url)
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await client.jetstream().delete_consumer(REGISTRY.bus.name, "risk-klines")
    await client.close()
    await handled(url, 0, middlewares)  # the durable, created at the end of the stream (new klines only)
    await publish_backlog(url, count)
    return await handled(url, count, middlewares)


async def handled(url: str, count: int, middlewares: Sequence[Any]) -> float:
    """Start a broker with risk's subscriber of KLINES, wait for `count` messages, stop; the seconds."""
    broker = NatsBroker(url, logger=None, middlewares=middlewares)
    seen = 0
    done = asyncio.Event()

    async def handle(event: Kline) -> None:
        nonlocal seen
        seen += 1
        if seen >= count:
            done.set()

    subscriber(broker, REGISTRY, KLINES, Service.RISK)(handle)
    began = time.perf_counter()
    await broker.start()
    if count:
        await asyncio.wait_for(done.wait(), timeout=300)
    elapsed = time.perf_counter() - began
    await broker.stop()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.consume")
    parser.add_argument("--quick", action="store_true", help="3,000 messages, 2 rounds (under a minute)")
    args = parser.parse_args()
    count, rounds = (3_000, 2) if args.quick else (20_000, 3)
    bare: list[float] = []
    instrumented: list[float] = []
    with bench_servers(fsync=False) as servers:
        for _ in range(rounds):
            bare.append(count / asyncio.run(consume(servers.nats_url, count, ())))
            with_middlewares = instrumentation.middlewares("risk")
            instrumented.append(count / asyncio.run(consume(servers.nats_url, count, with_middlewares)))
    best_bare, best_instrumented = max(bare), max(instrumented)
    bare_rounds = ", ".join(f"{r:,.0f}" for r in bare)
    instrumented_rounds = ", ".join(f"{r:,.0f}" for r in instrumented)
    ratio = best_instrumented / best_bare
    cost_us = (1 / best_instrumented - 1 / best_bare) * 1e6
    body = f"""
A backlog of {count:,} klines with a `traceparent`, consumed by `risk-klines` with a no-op handler through
`consumers.subscription.subscriber` (decode, ack, consume counters); best of {rounds} alternating rounds.

| broker | messages/s | rounds |
|---|---:|---|
| bare (no middlewares) | {best_bare:,.0f} | {bare_rounds} |
| instrumented (OpenTelemetry + Prometheus middlewares) | {best_instrumented:,.0f} | {instrumented_rounds} |

The middlewares cost {cost_us:.1f} µs per message; instrumented ÷ bare = {ratio:.3f} (goal ≥ {GOAL}).
"""
    record("consume", body)
    print(body.strip())
    print(closing_line("consume", "instrumented/bare throughput", ratio, f">={GOAL}"))


if __name__ == "__main__":
    main()

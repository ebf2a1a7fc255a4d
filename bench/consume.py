"""What metrics and tracing cost the consume path: a service's subscriber with its broker's middlewares
(FastStream's OpenTelemetry and Prometheus middlewares, `services/instrumentation.py`) against the same
subscriber on a bare broker, both through the one consume path (decode, ack, the consume counters).

A backlog of klines (each with a `traceparent`, as the drain sends them) published while `risk-klines`
was away is consumed by a no-op handler. Measured: this process's CPU time per message (what the consume
path costs, and what a busy machine does not blur, unlike wall time) and, for scale, messages per wall
second. The runs alternate and the best of each is kept. The closing ratio is bare ÷ instrumented CPU
per message (goal ≥ 0.8: the instrumentation costs at most a quarter more).
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


async def consume(url: str, count: int, middlewares: Sequence[Any]) -> tuple[float, float]:
    """Wall and CPU seconds for `risk-klines` to handle a backlog of `count` messages published while
    it was away."""
    client = await nats.connect(url)
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await client.jetstream().delete_consumer(REGISTRY.bus.name, "risk-klines")
    await client.close()
    await handled(url, 0, middlewares)  # the durable, created at the end of the stream (new klines only)
    await publish_backlog(url, count)
    return await handled(url, count, middlewares)


async def handled(url: str, count: int, middlewares: Sequence[Any]) -> tuple[float, float]:
    """Start a broker with risk's subscriber of KLINES, wait for `count` messages, stop; wall and CPU
    seconds from the start to the last message."""
    broker = NatsBroker(url, logger=None, middlewares=middlewares)
    seen = 0
    done = asyncio.Event()

    async def handle(event: Kline) -> None:
        nonlocal seen
        seen += 1
        if seen >= count:
            done.set()

    subscriber(broker, REGISTRY, KLINES, Service.RISK)(handle)
    began, cpu = time.perf_counter(), time.process_time()
    await broker.start()
    if count:
        await asyncio.wait_for(done.wait(), timeout=300)
    elapsed, used = time.perf_counter() - began, time.process_time() - cpu
    await broker.stop()
    return elapsed, used


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.consume")
    parser.add_argument("--quick", action="store_true", help="3,000 messages, 2 rounds (under a minute)")
    args = parser.parse_args()
    count, rounds = (3_000, 2) if args.quick else (20_000, 3)
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "instrumented": []}
    with bench_servers(fsync=False) as servers:
        for _ in range(rounds):
            runs["bare"].append(asyncio.run(consume(servers.nats_url, count, ())))
            with_middlewares = instrumentation.middlewares("risk")
            runs["instrumented"].append(asyncio.run(consume(servers.nats_url, count, with_middlewares)))
    cpu_us = {k: min(c for _, c in v) / count * 1e6 for k, v in runs.items()}
    rate = {k: count / min(w for w, _ in v) for k, v in runs.items()}
    ratio = cpu_us["bare"] / cpu_us["instrumented"]
    rows = "\n".join(
        f"| {k} | {cpu_us[k]:.0f} | {', '.join(f'{c / count * 1e6:.0f}' for _, c in v)} | {rate[k]:,.0f} |"
        for k, v in runs.items()
    )
    body = f"""
A backlog of {count:,} klines with a `traceparent`, consumed by `risk-klines` with a no-op handler through
`consumers.subscription.subscriber` (decode, ack, consume counters); best of {rounds} alternating rounds.
"bare" has no middlewares; "instrumented" has the services' (FastStream's OpenTelemetry and Prometheus).

| broker | CPU µs per message | rounds (µs) | messages per wall second |
|---|---:|---|---:|
{rows}

The middlewares cost {cpu_us["instrumented"] - cpu_us["bare"]:.0f} µs of CPU per message; bare ÷
instrumented = {ratio:.3f} (goal ≥ {GOAL}).
"""
    record("consume", body)
    print(body.strip())
    print(closing_line("consume", "bare/instrumented cpu_per_message", ratio, f">={GOAL}"))


if __name__ == "__main__":
    main()

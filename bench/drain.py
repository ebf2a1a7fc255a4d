"""Outbox drain benchmarks: throughput against raw `publish_async`, the writer's cost of `publish_within`,
a large backlog's time and memory, and leader takeover after SIGKILL.

Every number comes from this run, on throwaway embedded servers (fsync on). The closing ratio is drain
throughput ÷ raw nats-py `publish_async` throughput, same payloads and headers, same server.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import nats
from nats.aio.client import Client as NatsClient
from nats.js.api import PubAck

from bench.batch_raw import atomic_rate, fast_rate
from bench.drain_subprocess import backlog_run, takeover_rounds
from bench.report import closing_line, record
from bench.samples import samples
from bench.servers import BenchServers, bench_servers
from producers.channels import KLINES, ORDERS
from producers.drain.config import DrainConfig
from producers.drain.pipeline import Send
from producers.drain.worker import Drain
from producers.envelope import Envelope, seal
from producers.outbox import Outbox
from registry.ids import uuid7
from registry.streams import ensure_streams
from registry.subject import Service
from schemas import REGISTRY
from schemas.common import bot_token
from schemas.market import Kline
from schemas.trading import OrderEvent

COLUMNS = (
    "event_id",
    "subject",
    "payload",
    "schema_name",
    "schema_version",
    "producer",
    "trace_id",
    "created_at_ms",
)
SYMBOLS = ("btcusdt", "ethusdt", "solusdt", "bnbusdt")


def klines(n: int, start: int = 0) -> Iterator[Envelope]:
    """`n` distinct kline envelopes (fresh event ids, consecutive minutes, four symbols)."""
    base = samples()[Kline]
    assert isinstance(base, Kline)
    for i in range(start, start + n):
        t = base.open_time_ms + 60_000 * (i // len(SYMBOLS))
        symbol = SYMBOLS[i % len(SYMBOLS)]
        event = base.model_copy(
            update={
                "event_id": uuid7(),
                "symbol": symbol.upper(),
                "open_time_ms": t,
                "close_time_ms": t + 59_999,
            }
        )
        address = KLINES(market="spot", symbol_lc=symbol, tf="1m")
        yield seal(REGISTRY, Service.DATA, address, event, trace_id=f"bench-{i}")


def record_of(envelope: Envelope, now_ms: int) -> tuple[object, ...]:
    return (
        envelope.event_id,
        envelope.subject,
        envelope.payload,
        envelope.schema_name,
        envelope.schema_version,
        envelope.producer.value,
        envelope.trace_id,
        now_ms,
    )


async def prefill(dsn: str, n: int, chunk: int = 50_000) -> None:
    """COPY `n` kline rows into bus.outbox, `chunk` at a time (not timed)."""
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, n, chunk):
            now_ms = time.time_ns() // 1_000_000
            records = [record_of(e, now_ms) for e in klines(min(chunk, n - start), start)]
            await conn.copy_records_to_table("outbox", schema_name="bus", columns=COLUMNS, records=records)
        await conn.execute("ANALYZE bus.outbox")
    finally:
        await conn.close()


async def reset(dsn: str, client: NatsClient, *, atomic: bool = False) -> None:
    """Empty the outbox and recreate gordon-bus (a fresh stream: no messages, no dedup memory); `atomic`
    also allows atomic batches on it (for their raw rate only: the drain does not use them)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE bus.outbox")
    finally:
        await conn.close()
    js = client.jetstream()
    await js.delete_stream(REGISTRY.bus.name)
    if atomic:
        await js.add_stream(dataclasses.replace(REGISTRY.bus.config(), allow_atomic=True))
    await ensure_streams(js, REGISTRY.streams)


def messages_of(n: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """`n` kline messages with the headers the drain sends."""
    return [(e.subject, e.payload, e.headers()) for e in klines(n)]


async def raw_rate(client: NatsClient, n: int) -> float:
    """Events/s of `publish_async` for `n` klines with the drain's headers, all acks awaited."""
    messages = messages_of(n)
    js = client.jetstream()
    futures: list[asyncio.Future[PubAck]] = []
    start = time.perf_counter()
    for subject, payload, headers in messages:
        futures.append(await js.publish_async(subject, payload, headers=headers, stream=REGISTRY.bus.name))
    acks = await asyncio.gather(*futures)
    elapsed = time.perf_counter() - start
    assert len(acks) == n
    assert not any(a.duplicate for a in acks)
    return n / elapsed


async def unpublished(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL"))


async def drain_rate(
    dsn: str, client: NatsClient, n: int, send: Send | None, config: DrainConfig | None = None
) -> float:
    """Events/s of a Drain emptying a pre-filled outbox of `n` rows: start to all acked and marked."""
    config = config or DrainConfig()
    drain = Drain(dsn, client, config, send=send, name="bench")
    stop = asyncio.Event()
    check = await asyncpg.connect(dsn)
    try:
        start = time.perf_counter()
        task = asyncio.create_task(drain.run(stop))
        while drain.stats.published < n and not task.done():  # noqa: ASYNC110 - polls another task's counter
            await asyncio.sleep(0.005)
        while await unpublished(check) and not task.done():  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - start
        stop.set()
        await asyncio.wait_for(task, 15)
    finally:
        await check.close()
    info = await client.jetstream().stream_info(REGISTRY.bus.name)
    assert info.state.messages == n, f"stream holds {info.state.messages} messages, expected {n}"
    assert drain.stats.fast_batches == config.fast_batches, "the drain took the path it was set to"
    return n / elapsed


@dataclass
class WriterResult:
    """Transactions committed by all writers, and over how long."""

    commits: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.commits / self.seconds


AGGREGATES = 64
DOMAIN = """
CREATE TABLE IF NOT EXISTS public.bench_positions (id int PRIMARY KEY, version int NOT NULL);
INSERT INTO public.bench_positions SELECT g, 0 FROM generate_series(0, 63) g ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS public.bench_orders (
    id bigserial PRIMARY KEY, order_id uuid NOT NULL, body text NOT NULL, created_at_ms bigint NOT NULL
)
"""
INSERT_DOMAIN = "INSERT INTO public.bench_orders (order_id, body, created_at_ms) VALUES ($1, $2, $3)"
LOCK_AGGREGATE = "SELECT version FROM public.bench_positions WHERE id = $1 FOR UPDATE"
BUMP_AGGREGATE = "UPDATE public.bench_positions SET version = version + 1 WHERE id = $1"


def order(version: int) -> OrderEvent:
    base = samples()[OrderEvent]
    assert isinstance(base, OrderEvent)
    return base.model_copy(update={"event_id": uuid7(), "order_id": uuid7(), "version": version})


async def writers(
    dsn: str, count: int, seconds: float, with_outbox: bool, executor_shaped: bool = False
) -> WriterResult:
    """`count` connections committing domain transactions for `seconds`; each with or without an outbox
    insert of the order event in the same transaction.

    The plain shape is one insert; the executor shape locks an aggregate row, inserts the order row,
    bumps the aggregate and (with the outbox) writes two events, as an order fill does.
    """
    outbox = Outbox(REGISTRY, Service.EXECUTOR)
    conns = [await asyncpg.connect(dsn) for _ in range(count)]
    base = samples()[OrderEvent]
    assert isinstance(base, OrderEvent)
    address = ORDERS(bot_id=bot_token(base.bot_id))
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds

    async def write(conn: asyncpg.Connection) -> int:
        done = 0
        while loop.time() < until:
            event = order(1)
            aggregate = done % AGGREGATES
            async with conn.transaction():
                if executor_shaped:
                    await conn.fetchval(LOCK_AGGREGATE, aggregate)
                await conn.execute(INSERT_DOMAIN, event.order_id, event.model_dump_json(), event.ts_ms)
                if executor_shaped:
                    await conn.execute(BUMP_AGGREGATE, aggregate)
                if with_outbox:
                    await outbox.publish_within(conn, address, event)
                    if executor_shaped:
                        await outbox.publish_within(conn, address, order(2))
            done += 1
        return done

    try:
        start = loop.time()
        counts = await asyncio.gather(*(write(c) for c in conns))
        elapsed = loop.time() - start
    finally:
        for c in conns:
            await c.close()
    return WriterResult(sum(counts), elapsed)


async def writer_ratio(
    dsn: str, seconds: float, rounds: int, executor_shaped: bool = False
) -> tuple[float, float]:
    """Tx/s without and with the outbox insert, 8 writers, alternating rounds to even out drift."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(DOMAIN)
    finally:
        await conn.close()
    without: list[WriterResult] = []
    with_: list[WriterResult] = []
    for _ in range(rounds):
        without.append(await writers(dsn, 8, seconds, False, executor_shaped))
        with_.append(await writers(dsn, 8, seconds, True, executor_shaped))

    def total(results: list[WriterResult]) -> float:
        return sum(r.commits for r in results) / sum(r.seconds for r in results)

    return total(without), total(with_)


async def prefill_backlog(servers: BenchServers, rows: int) -> None:
    """An empty stream and `rows` kline rows waiting in the outbox."""
    client = await nats.connect(servers.nats_url)
    try:
        await reset(servers.dsn, client)
        await prefill(servers.dsn, rows)
    finally:
        await client.close()


PER_MESSAGE = DrainConfig(fast_batches=False)


async def throughput(servers: BenchServers, n: int, rounds: int) -> dict[str, float]:
    """Median events/s, alternating rounds on one server: raw `publish_async`; the Drain as committed
    (fast batches) and on its per-message path; the batch protocols alone (fast, and atomic)."""
    client = await nats.connect(servers.nats_url)
    rates: dict[str, list[float]] = {k: [] for k in ("raw", "drain", "per_message", "fast_raw", "atomic_raw")}
    bus = REGISTRY.bus.name
    c = DrainConfig()
    try:
        for _ in range(rounds):
            await reset(servers.dsn, client)
            rates["raw"].append(await raw_rate(client, n))
            for key, config in (("drain", c), ("per_message", PER_MESSAGE)):
                await reset(servers.dsn, client)
                await prefill(servers.dsn, n)
                rates[key].append(await drain_rate(servers.dsn, client, n, None, config))
            await reset(servers.dsn, client)
            rates["fast_raw"].append(await fast_rate(client, bus, messages_of(n), c.fast_rows, c.batch_flow))
            await reset(servers.dsn, client, atomic=True)
            rates["atomic_raw"].append(await atomic_rate(client, bus, messages_of(n)))
    finally:
        await reset(servers.dsn, client)
        await client.close()
    return {k: statistics.median(v) for k, v in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.drain")
    parser.add_argument("--quick", action="store_true", help="smaller runs (100k backlog, short writer runs)")
    args = parser.parse_args()
    n, rounds_t = (100_000, 1) if args.quick else (200_000, 3)
    backlog = 100_000 if args.quick else 1_000_000
    write_s, rounds = (1.0, 2) if args.quick else (4.0, 4)
    takeovers = 2 if args.quick else 5
    with bench_servers(fsync=True) as servers:
        rates = asyncio.run(throughput(servers, n, rounds_t))
        print(f"throughput n={n}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in rates.items()), flush=True)
        plain, within = asyncio.run(writer_ratio(servers.dsn, write_s, rounds))
        print(f"writers: {plain:,.0f} tx/s plain, {within:,.0f} tx/s with publish_within", flush=True)
        ex_plain, ex_within = asyncio.run(writer_ratio(servers.dsn, write_s, rounds, executor_shaped=True))
        print(f"executor-shaped: {ex_plain:,.0f} tx/s plain, {ex_within:,.0f} tx/s with 2 events", flush=True)
        asyncio.run(prefill_backlog(servers, backlog))
        drained = backlog_run(servers, backlog)
        print(drained.summary(), flush=True)
        times = takeover_rounds(servers, takeovers)
        print("takeovers (s): " + ", ".join(f"{t:.3f}" for t in times), flush=True)
    ratio = rates["drain"] / rates["raw"]
    c = DrainConfig()

    def row(what: str, key: str) -> str:
        return f"| {what} | {rates[key]:,.0f} | {rates[key] / rates['raw']:.3f} |"

    body = "\n".join(
        [
            f"Throughput, {n:,} kline events, median of {rounds_t} alternating rounds (outbox pre-filled, "
            "not timed; headers as the drain sends):",
            "",
            "| what | events/s | ÷ raw |",
            "|---|---:|---:|",
            row("raw nats-py `publish_async`, all acks awaited", "raw"),
            row(
                f"`Drain` as committed: fast batches of {c.fast_rows:,}, acked every {c.batch_flow} "
                "(start → all acked and marked)",
                "drain",
            ),
            row(
                f"`Drain` per-message path (`fast_batches=False`, batches of {c.batch_size:,})", "per_message"
            ),
            row("fast-ingest batches alone (`FastBatches`, no outbox)", "fast_raw"),
            row(
                "atomic batches of 1,000 alone (`allow_atomic`, commit acked; not used by the drain)",
                "atomic_raw",
            ),
            "",
            f"Goal drain ÷ raw ≥ 1.5: {'met' if ratio >= 1.5 else 'MISSED'} ({ratio:.3f}).",
            "",
            f"Writers (8 connections, fsync on, {rounds} x {write_s:g} s each, alternating): "
            f"{plain:,.0f} tx/s domain insert only, {within:,.0f} tx/s with `publish_within` in the same "
            f"tx: ratio {within / plain:.3f} (goal ≥ 0.9: {'met' if within / plain >= 0.9 else 'MISSED'}).",
            f"Executor-shaped transaction (lock an aggregate row, insert, update; 2 events with the outbox): "
            f"{ex_plain:,.0f} tx/s without, {ex_within:,.0f} tx/s with: ratio {ex_within / ex_plain:.3f}.",
            "The client is one Python process on a 2-core machine shared with Postgres; `bench.writers` "
            "takes this cost apart (what removing the round trip would save, what a second row of any "
            "kind costs).",
            "",
            drained.summary(),
            "",
            f"Leader takeover after SIGKILL ({len(times)} rounds, standby poll "
            f"{DrainConfig.standby_poll_s:g} s): "
            + ", ".join(f"{t:.3f} s" for t in times)
            + f"; worst {max(times):.3f} s (goal < 2 s: {'met' if max(times) < 2 else 'MISSED'}).",
        ]
    )
    record("drain", body)
    print(f"publish_within ratio={within / plain:.3f} goal>=0.9")
    print(
        closing_line(
            "drain", f"drain_per_s={rates['drain']:,.0f} raw_per_s={rates['raw']:,.0f}", ratio, ">=1.5"
        )
    )


if __name__ == "__main__":
    main()

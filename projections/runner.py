"""`Runner`: folds one projection's events from the history stream into its generation's tables.

Stream order, in batches: each batch's view rows and the tracking row commit together. An event at or
below its aggregate's version is a duplicate (also one re-sent after the dedup window, with a new
sequence) and is skipped; one ahead of its predecessor waits in a bounded buffer, and the tracking row
never passes it; a gap that does not fill, or an event the state machine refuses, halts the
projection with the sequence and the reason. Trading state never skips silently.

The poison rule: bytes that do not decode carry no trading state (nothing can be folded from them),
so the live runner stores them in the dead-letter stream with the reason (`dlq.projection-<name>`,
before the tracking row passes them) and goes on; a rebuild or verify skips them the same way, without
a second letter, so live and rebuilt generations agree. What decodes but contradicts the write side
halts. A real event lost that way would not go unseen: the next event of its aggregate is a gap, which
halts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from projections import generations, metrics, tracking
from projections.base import Projection
from projections.buffer import Buffer, Waiting
from registry.codec import DecodeError
from registry.dead_letters import DeadLetter, send_dead_letter
from registry.event import Event
from registry.registry import Registry

K = TypeVar("K", bound=Hashable)
S = TypeVar("S")

log = logging.getLogger("gordon.projections")


class ProjectionHalted(Exception):
    """The projection stopped at `seq` for `reason`; it resumes only from that event."""

    def __init__(self, name: str, seq: int, reason: str) -> None:
        super().__init__(f"projection {name} halted at seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


@dataclass
class Batch:
    """Fetched messages in stream order, and what they decode to (or why they do not)."""

    messages: list[Msg] = field(default_factory=list)
    decoded: list[tuple[int, Event]] = field(default_factory=list)
    undecodable: list[tuple[Msg, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RunnerConfig:
    batch_size: int = 1000
    fetch_wait_s: float = 0.02
    max_buffer: int = 10_000
    gap_timeout_s: float = 10.0


@dataclass
class RunnerStats:
    applied: int = 0
    duplicates: int = 0
    undecodable: int = 0
    """Events skipped because they do not decode (dead-lettered by a live runner)."""
    buffered: int = 0
    batches: int = 0
    processed_seq: int = 0
    last_seq: int = 0
    lag: int = 0
    generation: int = 0
    halted: str | None = None
    caught_up: bool = False


class Runner(Generic[K, S]):
    """One projection's runner: live (follows the live generation) or fixed to one schema (rebuilds)."""

    def __init__(
        self,
        projection: Projection[K, S],
        dsn: str,
        js: JetStreamContext,
        registry: Registry,
        config: RunnerConfig | None = None,
        *,
        generation: int | None = None,
    ) -> None:
        self.projection = projection
        self.dsn = dsn
        self.js = js
        self.registry = registry
        self.config = config or RunnerConfig()
        self.fixed = generation
        self.stats = RunnerStats()
        self.buffer: Buffer[Hashable] = Buffer()
        self._next_delivery = 1
        self.codec = registry.codec(projection.subject)
        self._applied = metrics.APPLIED.labels(projection.name)
        self._duplicates = metrics.DUPLICATES.labels(projection.name)

    async def run(self, stop: asyncio.Event, until_seq: int | None = None) -> RunnerStats:
        """Fold until `stop` (or, with `until_seq`, until every event up to it is consumed)."""
        conn = await asyncpg.connect(
            self.dsn, server_settings={"application_name": f"gordon-proj-{self.projection.name}"}
        )
        try:
            while not stop.is_set():
                generation = self.fixed or await generations.live_generation(conn, self.projection)
                if generation is None:
                    raise LookupError(f"projection {self.projection.name} has no live generation yet")
                done = await self._follow(conn, generation, stop, until_seq)
                if done:
                    break
        finally:
            await conn.close()
        return self.stats

    async def _follow(
        self, conn: asyncpg.Connection, generation: int, stop: asyncio.Event, until_seq: int | None
    ) -> bool:
        """Follow one generation; True when finished (`until_seq` reached), False when it was swapped."""
        schema = generations.schema_of(self.projection, generation)
        state = await tracking.read(conn, schema)
        await tracking.clear_halt(conn, schema)
        self.buffer.clear()
        metrics.HALTED.labels(self.projection.name).set(0)
        self.stats.generation = generation
        self.stats.last_seq = self.stats.processed_seq = state.last_seq
        sub = await self._subscribe(state.last_seq + 1)
        fetching: asyncio.Future[tuple[Batch, bool]] | None = None
        try:
            while not stop.is_set():
                if until_seq is not None and self.stats.processed_seq >= until_seq and not self.buffer.size:
                    return True
                fetching = fetching or asyncio.ensure_future(self._collect(sub, until_seq))
                batch, gap = await fetching
                # the next batch is fetched while this one is folded and committed
                fetching = (
                    asyncio.ensure_future(self._collect(sub, until_seq))
                    if batch.messages and not gap
                    else None
                )
                if batch.messages:
                    if (
                        not self.fixed
                        and await generations.live_generation(conn, self.projection) != generation
                    ):
                        return False
                    await self._apply(conn, schema, batch)
                elif not gap:
                    self.stats.caught_up = True
                    if until_seq is not None and self._next_delivery == 1:
                        # nothing delivered yet (a first fetch can time out on a busy machine): the
                        # lag is not known from a message, so ask the consumer before calling it done
                        self.stats.lag = (await sub.consumer_info()).num_pending or 0
                    if until_seq is not None and self.stats.lag == 0 and not self.buffer.size:
                        return True
                if gap:  # a delivery went missing: read again from the last event consumed
                    await self._unsubscribe(sub)
                    sub = await self._subscribe(self.stats.processed_seq + 1)
                self._check_gaps()
            return True
        except ProjectionHalted as halted:
            self.stats.halted = str(halted)
            metrics.HALTED.labels(self.projection.name).set(1)
            await tracking.halt(conn, schema, halted.seq, halted.reason)
            log.error("%s", halted)
            raise
        finally:
            if fetching is not None:
                fetching.cancel()
            await self._unsubscribe(sub)

    async def _subscribe(self, start_seq: int) -> Any:
        """A pull consumer on the history stream from `start_seq`: the runner sets the pace, so a
        backlog never overflows a client buffer (a push consumer drops messages then)."""
        self._next_delivery = 1
        return await self.js.pull_subscribe(
            self.projection.subject.template.wildcard(),
            stream=self.registry.history.name,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start_seq,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=60.0,
                mem_storage=True,
                num_replicas=1,
            ),
        )

    async def _unsubscribe(self, sub: Any) -> None:
        with contextlib.suppress(Exception):
            await self.js.delete_consumer(self.registry.history.name, sub._consumer)
        with contextlib.suppress(Exception):
            await sub.unsubscribe()

    async def _collect(self, sub: Any, until_seq: int | None) -> tuple[Batch, bool]:
        """The next batch in stream order, decoded, and whether a delivery is missing after it.

        A fixed runner (a rebuild) tops its batch up while more is pending, so it commits full batches
        (a fetch ends at its wait, which a busy fold makes it reach early); a live one takes what came.
        Decoding here, in the fetch that runs while the previous batch commits, keeps it off the fold."""
        batch = Batch()
        gap = done = False
        while not (gap or done):
            try:
                messages = await sub.fetch(
                    self.config.batch_size - len(batch.messages), timeout=self.config.fetch_wait_s
                )
            except TimeoutError:  # nats-py raises its own subclass, or the builtin from inside fetch
                break
            for msg in messages:
                meta = msg.metadata
                if meta.sequence.consumer != self._next_delivery:
                    gap = True
                    break
                self._next_delivery += 1
                if until_seq is not None and meta.sequence.stream > until_seq:
                    self.stats.lag = 0
                    done = True
                    break
                self.stats.lag = meta.num_pending
                batch.messages.append(msg)
            if self.fixed is None or len(batch.messages) >= self.config.batch_size or self.stats.lag == 0:
                break
        for msg in batch.messages:
            try:
                batch.decoded.append((msg.metadata.sequence.stream, self.codec.decode(msg.data)))
            except DecodeError as exc:
                batch.undecodable.append((msg, exc.reason))
        return batch, gap

    async def _apply(self, conn: asyncpg.Connection, schema: str, batch: Batch) -> None:
        p = self.projection
        decoded, undecodable = batch.decoded, batch.undecodable
        halted: ProjectionHalted | None = None
        async with conn.transaction():
            keys = list(dict.fromkeys(p.key(event) for _, event in decoded))
            states = await p.load(conn, schema, keys)
            changed: dict[K, S] = {}
            now = time.monotonic()
            processed = batch.messages[-1].metadata.sequence.stream
            for seq, event in decoded:
                try:
                    self._one(seq, event, states, changed, now)
                except ProjectionHalted as exc:
                    halted, processed = exc, seq - 1  # keep what came before the contradicting event
                    break
            for msg, reason in undecodable:  # stored before the tracking row passes them
                if msg.metadata.sequence.stream <= processed:
                    await self._skip_undecodable(msg, reason)
            await p.save(conn, schema, changed)
            lowest = self.buffer.lowest_seq()
            last = processed if lowest is None else min(processed, lowest - 1)
            await tracking.advance(conn, schema, last, processed)
        self.stats.batches += 1
        self.stats.processed_seq = processed
        self.stats.last_seq = max(self.stats.last_seq, last)
        name = self.projection.name
        metrics.LAG.labels(name).set(self.stats.lag)
        metrics.LAG_SECONDS.labels(name).set(metrics.behind_s(batch.messages[-1], self.stats.lag))
        metrics.LAST_SEQ.labels(name).set(self.stats.last_seq)
        if halted is not None:
            raise halted

    async def _skip_undecodable(self, msg: Msg, reason: str) -> None:
        """Skip bytes that do not decode: a live runner dead-letters them first (idempotent per history
        sequence by Msg-Id); a fixed runner (rebuild, verify) met what the live one already stored."""
        seq = msg.metadata.sequence.stream
        name = self.projection.name
        self.stats.undecodable += 1
        metrics.UNDECODABLE.labels(name).inc()
        if self.fixed is not None:
            log.info("projection %s: seq %s skipped, it does not decode: %s", name, seq, reason)
            return
        letter = DeadLetter(
            subject=msg.subject,
            data=msg.data,
            headers=dict(msg.headers or {}),
            stream=msg.metadata.stream,
            sequence=seq,
            consumer=self.projection.consumer,
            deliveries=1,
            reason=f"decode: {reason}",
        )
        await send_dead_letter(self.js, letter)
        log.warning("projection %s: seq %s dead-lettered: decode: %s", name, seq, reason)

    def _one(self, seq: int, event: Event, states: dict[K, S], changed: dict[K, S], now: float) -> None:
        p = self.projection
        key = p.key(event)
        version = p.version(event)
        stream = p.stream(event)
        current = p.applied(states[key], event) if key in states else 0
        if version <= current:
            self.stats.duplicates += 1
            self._duplicates.inc()
            return
        if version > current + 1:
            self.buffer.hold(stream, version, Waiting(seq, event, now, current))
            self.stats.buffered += 1
            if self.buffer.size > self.config.max_buffer:
                gap = self.buffer.oldest(now)
                raise ProjectionHalted(p.name, gap.seq if gap else seq, f"buffer full: {gap}")
            return
        while True:
            try:
                states[key] = p.fold(states.get(key), event)
            except Exception as exc:
                raise ProjectionHalted(p.name, seq, f"{type(exc).__name__}: {exc}") from None
            changed[key] = states[key]
            self.stats.applied += 1
            self._applied.inc()
            waiting = self.buffer.take(stream, version + 1)
            if waiting is None:
                return
            seq, event, version = waiting.seq, waiting.event, version + 1

    def _check_gaps(self) -> None:
        gap = self.buffer.oldest(time.monotonic())
        if gap is not None and gap.age_s > self.config.gap_timeout_s:
            raise ProjectionHalted(self.projection.name, gap.seq, f"gap did not fill: {gap}")

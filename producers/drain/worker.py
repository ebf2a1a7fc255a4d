"""`Drain`: elect a leader, then forward committed outbox rows to JetStream in id order, forever.

Writers never wait on NATS: they only insert rows. The leader fetches unpublished rows by flag in id
order (a late-committing low id is picked up by the next fetch, never skipped), publishes a batch
as a fast-ingest batch (acked every few hundred messages; see `batch`) or, on a server or stream without
them, message by message pipelined; it marks the stored prefix on a second connection while the next
batch goes out, and on a failed ack starts again from the first unstored row. A row the server itself
keeps refusing is quarantined with the reason instead of blocking everything behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import deque

import asyncpg
from nats.aio.client import Client as NatsClient

from producers import metrics
from producers.drain import batch, store
from producers.drain.acks import PubAcks
from producers.drain.batch import BatchFlight, BatchUnsupported, FastBatches, Prepared
from producers.drain.config import LOCK_KEY, WAKE_CHANNEL, DrainConfig
from producers.drain.leader import Leadership
from producers.drain.pipeline import BatchResult, Failure, Flight, Send, land, launch
from producers.drain.stats import DrainStats
from registry.streams import covers

log = logging.getLogger("gordon.drain")

DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


class LostLeadership(Exception):
    """The lock connection stopped answering: another drain may be leading now."""


class Drain:
    """One drain process; many may run, one leads."""

    def __init__(
        self,
        dsn: str,
        nats: NatsClient,
        config: DrainConfig | None = None,
        *,
        send: Send | None = None,
        publish: batch.Publish | None = None,
        lock_key: int = LOCK_KEY,
        name: str | None = None,
    ) -> None:
        self.dsn = dsn
        self.nats = nats
        self.config = config or DrainConfig()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.stats = DrainStats()
        self.leadership = Leadership(dsn, self.config, lock_key)
        self._send = send
        self._publish = publish  # a test's core publish under the fast batches (`send` turns them off)
        self._js = nats.jetstream()  # one context: each new one leaves a reply subscription behind
        self._wake = asyncio.Event()
        self._marked = asyncio.Event()
        self._batches: FastBatches | None = None
        self._per_message_left = 0
        self._covered: dict[str, bool] = {}
        self._acks = PubAcks(nats, self.config.stream)  # replaced by a started one each leader term

    async def run(self, stop: asyncio.Event) -> None:
        """Lead whenever the lock is free, until `stop` is set; survives NATS and Postgres restarts."""
        retry = self.config.retry_first_s
        while not stop.is_set():
            try:
                if await self.leadership.try_acquire():
                    self.stats.leader_terms += 1
                    self.stats.is_leader = True
                    metrics.leading(True)
                    log.info("%s leads the outbox drain", self.name)
                    await self._lead(stop)
                    retry = self.config.retry_first_s
                else:
                    await _sleep(stop, self.config.standby_poll_s)
            except (*DB_ERRORS, LostLeadership) as exc:
                log.warning("drain %s: %s: %s; retrying in %.1fs", self.name, type(exc).__name__, exc, retry)
                await _sleep(stop, retry)
                retry = min(retry * 2, self.config.retry_max_s)
            finally:
                if self.stats.is_leader:
                    self.stats.is_leader = False
                    metrics.leading(False)
                    await self.leadership.release()
        await self.leadership.release()
        log.info("drain %s stopped: %s", self.name, self.stats)

    async def _lead(self, stop: asyncio.Event) -> None:
        work = await asyncpg.connect(self.dsn, server_settings={"application_name": "gordon-drain"})
        marks = await asyncpg.connect(self.dsn, server_settings={"application_name": "gordon-drain-mark"})
        await work.add_listener(WAKE_CHANNEL, lambda *_: self._wake.set())
        self._batches = await self._fast_batches()
        self.stats.fast_batches = self._batches is not None
        acks = PubAcks(self.nats, self.config.stream)
        await acks.start()
        self._acks = acks
        outstanding: dict[int, None] = {}
        queue: asyncio.Queue[list[int]] = asyncio.Queue(maxsize=2)
        marker = asyncio.create_task(self._mark_loop(marks, queue, outstanding))
        health = asyncio.create_task(self._watch_leadership())
        forwarding = asyncio.create_task(self._forward_all(work, stop, queue, outstanding, marker, health))
        try:
            # The marker or the health watch may end while forwarding waits on something else (a full
            # mark queue): race them, or a lost mark connection would stall the leader forever.
            await asyncio.wait({forwarding, marker, health}, return_when=asyncio.FIRST_COMPLETED)
            if not forwarding.done():
                for task in (marker, health):
                    if task.done():
                        task.result()  # re-raises what stopped it
                raise LostLeadership("a drain task ended")
            forwarding.result()
        finally:
            # Waiting never raises: what ended the term is already propagating, and re-raising a task's
            # failure here would skip the rest (the marker, the health watch and both connections leaked).
            for tasks in ((forwarding,), (marker, health)):
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks)
                for task in tasks:
                    if not task.cancelled():
                        task.exception()  # retrieved, so asyncio does not log it as never retrieved
            for conn in (work, marks):
                conn.terminate() if conn.is_closed() else await _close(conn)
            batches, self._batches = self._batches, None
            if batches is not None:
                await batches.stop()
            await acks.stop()

    async def _fast_batches(self) -> FastBatches | None:
        """Fast batches when the config and the server (2.14+) allow them; otherwise (or with a test's
        `send`) the per-message path."""
        c = self.config
        if self._send is not None or not c.fast_batches:
            return None
        if not batch.supported(self.nats):
            log.info("drain: nats-server %s has no fast batches; publishing per message", self._version())
            return None
        # No stream info is asked for (the drain's NATS user may not call the JetStream API): a stream
        # without `allow_batched` refuses the first batch (10205, nothing stored) and the drain then
        # publishes per message for the rest of its term.
        batches = FastBatches(
            self.nats,
            c.stream,
            flow=c.batch_flow,
            window=c.batch_window,
            ack_timeout_s=c.ack_timeout_s,
            publish=self._publish,
        )
        await batches.start()
        log.info("drain: fast batches of up to %d rows, acked every %d", c.fast_rows, c.batch_flow)
        return batches

    def _version(self) -> str:
        v = self.nats.connected_server_version
        return f"{v.major}.{v.minor}.{v.patch}"

    async def _launch(self, send: Send, rows: list[store.Row], prepared: Prepared | None = None) -> Flight:
        """A fast batch, unless there is none or the last one failed (then once per message)."""
        if self._batches is not None and self._per_message_left <= 0:
            return await self._batches.launch(rows, prepared)
        self._per_message_left = max(0, self._per_message_left - 1)
        return await launch(send, rows)

    async def _settle(self, flight: Flight) -> BatchResult:
        """Await a flight's acks, whichever path sent it."""
        if not isinstance(flight, BatchFlight):
            return await land(flight, self.config.ack_timeout_s)
        if self._batches is None:  # the term's batches were given up: nothing of this one is known
            return BatchResult(failure=Failure(flight.rows[0], "fast batches given up", False, False, False))
        try:
            return await self._batches.land(flight)
        except BatchUnsupported as exc:
            log.warning(
                "drain: %s refuses fast batches (%s); publishing per message", self.config.stream, exc
            )
            batches, self._batches = self._batches, None
            self.stats.fast_batches = False
            await batches.stop()
            return BatchResult(failure=Failure(flight.rows[0], str(exc), False, False, False))

    async def _forward_all(
        self,
        work: asyncpg.Connection,
        stop: asyncio.Event,
        queue: asyncio.Queue[list[int]],
        outstanding: dict[int, None],
        marker: asyncio.Task[None],
        health: asyncio.Task[None],
    ) -> None:
        """Forward until `stop`, then wait for the last marks."""
        await self._forward(work, stop, queue, outstanding, marker, health)
        await queue.join()

    async def _forward(
        self,
        work: asyncpg.Connection,
        stop: asyncio.Event,
        queue: asyncio.Queue[list[int]],
        outstanding: dict[int, None],
        marker: asyncio.Task[None],
        health: asyncio.Task[None],
    ) -> None:
        """Keep up to `flights` batches in the air; land the oldest, mark what it stored, repeat.

        `outstanding` holds the ids published but not yet marked, which the next fetch skips; a fetch
        always starts from the lowest unpublished id, so a late-committing row is never passed by.
        """
        c = self.config
        send = self._send or self._acks.send
        flights: deque[Flight] = deque()
        ahead: asyncio.Task[list[store.Row]] | None = None  # the next fast batch, fetched while one goes out
        idle = 0
        retry = c.retry_first_s
        next_forget = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                for task in (marker, health):
                    if task.done():
                        task.result()  # re-raises what stopped it
                        raise LostLeadership("a drain task ended")
                if len(flights) < c.flights and (not flights or flights[-1].failure is None):
                    size = c.fast_rows if self._batching() else c.batch_size
                    if ahead is not None:
                        fetched, ahead = await ahead, None
                    else:
                        fetched = await store.fetch(work, size, list(outstanding))
                    rows = await self._set_aside_strays(work, fetched)
                    if rows:
                        idle = 0
                        # A fast batch goes out only once everything before it is known stored: a row lost
                        # ahead of it (a dropped link, a leader change) can never be passed by a later one.
                        # The next batch was fetched meanwhile; after a failure it is fetched again.
                        prepared = self._batches.prepare(rows) if self._batches and flights else None
                        landed = True
                        while landed and flights and self._batching():
                            landed, retry = await self._land_next(
                                work, stop, flights, queue, outstanding, retry
                            )
                        if not landed:
                            continue
                        outstanding.update(dict.fromkeys(row.id for row in rows))
                        if self._batching():
                            ahead = asyncio.create_task(store.fetch(work, size, list(outstanding)))
                        flights.append(await self._launch(send, rows, prepared))
                        continue
                await _settled(ahead)  # `work` is needed for something else now
                ahead = None
                if not flights:
                    if loop.time() >= next_forget:
                        self.stats.forgotten += await self._forget(work)
                        next_forget = loop.time() + c.retention_every_s
                    await self._idle(work, stop, idle)
                    idle += 1
                    continue
                _, retry = await self._land_next(work, stop, flights, queue, outstanding, retry)
        finally:
            if ahead is not None:
                ahead.cancel()
                await _settled(ahead)

    def _batching(self) -> bool:
        """Whether the next flight goes out as a fast batch."""
        return self._batches is not None and self._per_message_left <= 0

    async def _land_next(
        self,
        work: asyncpg.Connection,
        stop: asyncio.Event,
        flights: deque[Flight],
        queue: asyncio.Queue[list[int]],
        outstanding: dict[int, None],
        retry: float,
    ) -> tuple[bool, float]:
        """Land the oldest flight; on a failure drop the later ones (resent from the failed row), deal
        with the failed row and back off if it was the transport. Returns whether it landed whole and
        the next retry delay."""
        c = self.config
        failure = await self._land(flights.popleft(), queue, outstanding)
        if failure is None:
            return True, c.retry_first_s
        while flights:  # later flights went out after the failed row: send them again
            later = flights.popleft()
            await self._settle(later)
            for row in later.rows:
                outstanding.pop(row.id, None)
        await self._on_failure(work, failure)
        if not failure.rejected and failure.exact:
            await _sleep(stop, retry)
            return False, min(retry * 2, c.retry_max_s)
        return False, retry if failure.exact else c.retry_first_s

    async def _land(
        self, flight: Flight, queue: asyncio.Queue[list[int]], outstanding: dict[int, None]
    ) -> Failure | None:
        """Await one flight; queue its stored prefix for marking and free the rest for a resend."""
        result = await self._settle(flight)
        self.stats.batches += 1
        metrics.DRAIN_BATCHES.inc()
        for row in flight.rows[len(result.stored) :]:
            outstanding.pop(row.id, None)
        if result.stored:
            await queue.put([row.id for row in result.stored])
            self.stats.published += len(result.stored)
            self.stats.duplicates += result.duplicates
            metrics.published(result.stored)
        return result.failure

    async def _set_aside_strays(self, work: asyncpg.Connection, rows: list[store.Row]) -> list[store.Row]:
        """Quarantine rows whose subject no stream subject covers: JetStream would never store them."""
        keep = []
        known = self._covered
        for row in rows:
            covered = known.get(row.subject)
            if covered is None:
                covered = any(covers(f, row.subject) for f in self.config.subjects)
                if len(known) < 100_000:  # subjects repeat; the cap bounds memory against unique ones
                    known[row.subject] = covered
            if covered:
                keep.append(row)
                continue
            reason = f"subject {row.subject!r} is outside every subject of {self.config.stream}"
            await store.quarantine(work, row.id, reason)
            self.stats.quarantined += 1
            metrics.quarantined(row.subject)
            log.error("drain: quarantined row %s event %s: %s", row.id, row.event_id, reason)
        return keep

    async def _on_failure(self, work: asyncpg.Connection, failure: Failure) -> None:
        row = failure.row
        metrics.publish_failed(row.subject, failure.rejected)
        if not failure.exact:
            # A fast batch stopped at `row`: resend from it once per message, whose per-row acks tell a
            # refused row (counted, then quarantined) from one lost in transit.
            self._per_message_left = 1
            self.stats.batch_fallbacks += 1
            self.stats.transport_failures += not failure.rejected
            log.warning("drain: fast batch stopped at row %s (%s): %s", row.id, row.subject, failure.reason)
            return
        if not failure.rejected:
            self.stats.transport_failures += 1
            log.warning("drain: row %s (%s) not stored: %s", row.id, row.subject, failure.reason)
            return
        self.stats.rejections += 1
        attempts = await store.record_rejection(work, row.id)
        if failure.permanent or attempts >= self.config.max_rejections:
            await store.quarantine(work, row.id, failure.reason)
            self.stats.quarantined += 1
            metrics.quarantined(row.subject)
            log.error(
                "drain: quarantined row %s event %s (%s): %s",
                row.id,
                row.event_id,
                row.subject,
                failure.reason,
            )

    async def _mark_loop(
        self, conn: asyncpg.Connection, queue: asyncio.Queue[list[int]], outstanding: dict[int, None]
    ) -> None:
        while True:
            ids = await queue.get()
            try:
                await store.mark_published(conn, ids)
            finally:
                queue.task_done()
            for row_id in ids:
                outstanding.pop(row_id, None)

    async def _watch_leadership(self) -> None:
        while True:
            await asyncio.sleep(self.config.health_every_s)
            if not await self.leadership.alive():
                raise LostLeadership("the advisory-lock connection stopped answering")

    async def _idle(self, work: asyncpg.Connection, stop: asyncio.Event, idle: int) -> None:
        """Poll fast for a moment after work, then sleep until NOTIFY or the idle poll."""
        c = self.config
        if idle < len(c.awake_polls_s):
            await _sleep(stop, c.awake_polls_s[idle])
            return
        self._wake.clear()
        await store.set_sleeping(work, True, self.name)
        try:
            if await store.fetch(work, 1, []):
                return
            timeout = min(c.sleep_first_s * 2 ** (idle - len(c.awake_polls_s)), c.idle_poll_s)
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            _, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()
        finally:
            await store.set_sleeping(work, False, self.name)

    async def _forget(self, work: asyncpg.Connection) -> int:
        c = self.config
        cutoff = store.now_ms() - int(c.retention_s * 1000)
        total = 0
        while True:
            gone = await store.forget_published(work, cutoff, c.retention_batch)
            total += gone
            if gone < c.retention_batch:
                return total


async def _settled(task: asyncio.Task[list[store.Row]] | None) -> None:
    """Wait out a prefetch whose rows are no longer wanted (its failure, if any, surfaces on the next
    fetch instead)."""
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError, *DB_ERRORS):
            await task


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds` or until `stop`; never swallows a cancellation (3.11's wait_for can)."""
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()


async def _close(conn: asyncpg.Connection) -> None:
    try:
        async with asyncio.timeout(2.0):
            await conn.close()
    except (*DB_ERRORS,):
        conn.terminate()

"""`Sequencer`: turns the three durables' interleaved deliveries into one feed in stream-sequence order.

manager-fills, manager-orders and manager-risk each deliver their family in stream order, but not in
order with each other: seq 12 (a fill) may arrive before seq 11 (an order update). Resume by sequence
needs one total order, so the sequencer releases a message only once every family is known to have
nothing older still on the way: for each family it keeps `clear` (every message of the family at or
below it is held or released) and advances it by asking the stream for the family's next message
(a direct get by sequence). A message found that way is taken from the stream at once, so a lagging or
stopped durable never holds the feed back; its later delivery is a duplicate and is dropped.

A durable's own deliveries advance its family's `clear` for free when they are provably contiguous:
a first delivery whose consumer sequence follows the previous first delivery's (JetStream delivers new
messages in stream order, so nothing of the family lies between). Anything else (a redelivery, a
message the client dropped) is left to the stream reads.

Offers only hold the message and wake one flusher task, so a durable's handler never waits on the
stream reads, and one read per family covers every message held when it was made (all of them were
stored before it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from services.manager.api.live.message import Kind, LiveMessage
from services.manager.api.live.stream import StreamReader

log = logging.getLogger("gordon.manager.live")

RETRY_S = 1.0
"""After a failed stream read, the held messages are tried again this much later."""


@dataclass(frozen=True)
class Delivered:
    """Where a durable's delivery sits: its consumer sequence and delivery count (1: first delivery)."""

    consumer_seq: int
    deliveries: int


class Sequencer:
    """Releases offered messages to `release` in strictly increasing stream sequence, each once.

    The first call fixes the start: messages stored before it are history (read from the stream on
    resume), never released live.
    """

    def __init__(self, reader: StreamReader, release: Callable[[LiveMessage], None]) -> None:
        self._reader = reader
        self._release = release
        self._starting = asyncio.Lock()
        self._held: dict[int, LiveMessage] = {}
        self._clear: dict[Kind, int] = {}
        self._released: int | None = None
        self.start_seq: int | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._closed = False
        self._last: dict[Kind, tuple[Delivered, int]] = {}

    @property
    def released(self) -> int | None:
        """The last released sequence (the start before the first release; None before `start`)."""
        return self._released

    @property
    def held(self) -> int:
        """Messages waiting to be released."""
        return len(self._held)

    async def start(self) -> int:
        """Fix the start at the stream's last sequence (once); returns the last released sequence."""
        if self._released is None:
            async with self._starting:
                if self._released is None:
                    start = (await self._reader.bounds()).last_seq
                    self._clear = dict.fromkeys(Kind, start)
                    self.start_seq = start
                    self._released = start
        return self._released

    async def offer(self, message: LiveMessage, delivered: Delivered | None = None) -> None:
        """Take one message its durable delivered (`delivered`: where, when known); the flusher
        releases it with whatever it unblocks.

        Never raises for a failed stream read: the message stays held and is retried.
        """
        released = await self.start()
        if message.seq > released and message.seq not in self._held:
            self._held[message.seq] = message
        # else: history, a redelivery, or already taken from the stream
        if delivered is not None:
            self._follow(message, delivered)
        if self._held:
            self._wake()

    def _follow(self, message: LiveMessage, delivered: Delivered) -> None:
        """Advance the family's `clear` to `message` when its durable provably skipped nothing."""
        kind = message.kind
        last = self._last.get(kind)
        self._last[kind] = (delivered, message.seq)
        if last is None:
            return
        before, before_seq = last
        contiguous = (
            delivered.deliveries == 1
            and before.deliveries == 1
            and delivered.consumer_seq == before.consumer_seq + 1
            and message.seq > before_seq
        )
        if contiguous and self._clear[kind] >= before_seq:
            self._clear[kind] = max(self._clear[kind], message.seq)

    async def settled(self) -> None:
        """Wait until the flusher has released everything it can (for tests and shutdown)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    def _wake(self) -> None:
        if self._closed or (self._flusher is not None and not self._flusher.done()):
            return  # the running flusher sees the new message before it stops
        self._flusher = asyncio.get_running_loop().create_task(self._flush(), name="live-feed-sequencer")

    async def _flush(self) -> None:
        # The loop's test and the task's end run with no await between: an offer either lands before
        # the test (and is flushed) or sees the task done (and starts another).
        try:
            while self._held:
                oldest = min(self._held)
                await self._clear_below(oldest)
                if min(self._held) == oldest:
                    self._emit(self._held.pop(oldest))
        except Exception as exc:  # a NATS timeout or a lost connection: keep everything, try again
            log.warning("live feed: %s held, stream read failed (%r); retrying", len(self._held), exc)
            self._schedule_retry()

    async def _clear_below(self, seq: int) -> None:
        """Make every family clear through `seq - 1`, holding what the stream has that was not delivered."""
        for kind in Kind:
            while self._clear[kind] < seq - 1:
                horizon = max(self._held)  # stored before the read below: it cannot miss an older one
                found = await self._reader.next_of(kind, self._clear[kind] + 1)
                # Each bound below is true on its own; max keeps what a delivery proved meanwhile.
                if found is None:  # nothing of `kind` stored after clear, up to the horizon at least
                    self._clear[kind] = max(self._clear[kind], horizon)
                    break
                at, message = found
                if at >= seq:
                    self._clear[kind] = max(self._clear[kind], at - 1)
                    break
                self._take(at, message)
                self._clear[kind] = max(self._clear[kind], at)

    def _take(self, seq: int, message: LiveMessage | None) -> None:
        """Hold a message read from the stream (None: undecodable, skipped as its durable skips it)."""
        assert self._released is not None
        if message is not None and seq > self._released and seq not in self._held:
            self._held[seq] = message

    def _emit(self, message: LiveMessage) -> None:
        self._released = message.seq
        self._clear[message.kind] = max(self._clear[message.kind], message.seq)
        self._release(message)

    def _schedule_retry(self) -> None:
        if self._retry is None and not self._closed:
            self._retry = asyncio.get_running_loop().call_later(RETRY_S, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        self._wake()

    def close(self) -> None:
        """Stop: no more flushes or retries."""
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._flusher is not None:
            self._flusher.cancel()

"""`Sequencer`: turns the three durables' interleaved deliveries into one feed in stream-sequence order.

manager-fills, manager-orders and manager-risk each deliver their family in stream order, but not in
order with each other: seq 12 (a fill) may arrive before seq 11 (an order update). Resume by sequence
needs one total order, so the sequencer releases a message only once every family is known to have
nothing older still on the way: for each family it keeps `clear` (every message of the family at or
below it is held or released) and advances it by asking the stream for the family's next message
(a direct get by sequence). A message found that way is taken from the stream at once, so a lagging or
stopped durable never holds the feed back; its later delivery is a duplicate and is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from consumers.manager.api.live.message import Kind, LiveMessage
from consumers.manager.api.live.stream import StreamReader

log = logging.getLogger("gordon.manager.live")

RETRY_S = 1.0
"""After a failed stream read, the held messages are tried again this much later."""


class Sequencer:
    """Releases offered messages to `release` in strictly increasing stream sequence, each once.

    The first call fixes the start: messages stored before it are history (read from the stream on
    resume), never released live.
    """

    def __init__(self, reader: StreamReader, release: Callable[[LiveMessage], None]) -> None:
        self._reader = reader
        self._release = release
        self._lock = asyncio.Lock()
        self._held: dict[int, LiveMessage] = {}
        self._clear: dict[Kind, int] = {}
        self._released: int | None = None
        self.start_seq: int | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._retry_task: asyncio.Task[None] | None = None

    @property
    def released(self) -> int | None:
        """The last released sequence (the start before the first release; None before `start`)."""
        return self._released

    @property
    def held(self) -> int:
        """Messages waiting for an older one."""
        return len(self._held)

    async def start(self) -> int:
        """Fix the start at the stream's last sequence (once); returns the last released sequence."""
        async with self._lock:
            if self._released is None:
                start = (await self._reader.bounds()).last_seq
                self._released = start
                self.start_seq = start
                self._clear = dict.fromkeys(Kind, start)
            return self._released

    async def offer(self, message: LiveMessage) -> None:
        """Take one delivered message; release it and whatever it unblocks, in order.

        Never raises for a failed stream read: the message stays held and is retried.
        """
        await self.start()
        async with self._lock:
            assert self._released is not None
            if message.seq <= self._released or message.seq in self._held:
                return  # history, a redelivery, or already taken from the stream
            self._held[message.seq] = message
            await self._flush()

    async def _flush(self) -> None:
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
        assert self._released is not None
        for kind in Kind:
            while self._clear[kind] < seq - 1:
                found = await self._reader.next_of(kind, self._clear[kind] + 1)
                if found is None:  # nothing of `kind` stored after clear: seq itself is stored
                    self._clear[kind] = seq - 1
                    break
                at, message = found
                if at >= seq:
                    self._clear[kind] = at - 1
                    break
                if message is not None and at > self._released and at not in self._held:
                    self._held[at] = message
                self._clear[kind] = at

    def _emit(self, message: LiveMessage) -> None:
        self._released = message.seq
        self._clear[message.kind] = max(self._clear[message.kind], message.seq)
        self._release(message)

    def _schedule_retry(self) -> None:
        if self._retry is not None:
            return
        loop = asyncio.get_running_loop()
        self._retry = loop.call_later(RETRY_S, self._run_retry)

    def _run_retry(self) -> None:
        self._retry = None
        self._retry_task = asyncio.get_running_loop().create_task(self._retry_flush())

    async def _retry_flush(self) -> None:
        async with self._lock:
            await self._flush()

    def close(self) -> None:
        """Cancel a pending retry."""
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._retry_task is not None:
            self._retry_task.cancel()

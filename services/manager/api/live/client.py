"""`Subscription`: one /ws client's view of the feed — a replay of what it missed, then live messages
through a bounded queue. A client whose queue fills is dropped: its memory never grows past the bound."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable

from services.manager.api.live.message import LiveMessage

SLOW_CONSUMER = "slow consumer"
CLIENT_LEFT = "client left"
SHUTDOWN = "server shutting down"


class Subscription:
    """Live messages queued for one client (at most `limit`), after `history` (its missed messages).

    `history` is an async iterator read before the queue, so a long replay is streamed, not held.
    """

    def __init__(
        self,
        limit: int,
        history: Callable[[], AsyncIterator[LiveMessage]],
        on_drop: Callable[[Subscription], None],
    ) -> None:
        if limit < 1:
            raise ValueError(f"a client queue holds at least 1 message, got {limit}")
        self.limit = limit
        self.dropped: str | None = None
        self.last_seq: int | None = None
        self._history = history
        self._queue: deque[LiveMessage] = deque()
        self._ready = asyncio.Event()
        self._gone = asyncio.Event()
        self._on_drop = on_drop

    @property
    def queued(self) -> int:
        return len(self._queue)

    def put(self, message: LiveMessage) -> None:
        """Queue one live message; drops the client when its queue is full (never blocks the hub)."""
        if self.dropped is not None:
            return
        if len(self._queue) >= self.limit:
            self.drop(SLOW_CONSUMER)
            return
        self._queue.append(message)
        self._ready.set()

    def drop(self, reason: str) -> None:
        """End the subscription: its queue is freed and `gone` wakes whoever watches it."""
        if self.dropped is not None:
            return
        self.dropped = reason
        self._queue.clear()
        self._gone.set()
        self._ready.set()
        self._on_drop(self)

    async def gone(self) -> str:
        """Wait until the subscription is dropped; returns why."""
        await self._gone.wait()
        return self.dropped or ""

    async def messages(self) -> AsyncIterator[LiveMessage]:
        """The replay, then live messages as they come, each with a higher seq than the one before;
        ends when the subscription is dropped."""
        async for message in self._history():
            if self.dropped is not None:
                return
            self.last_seq = message.seq
            yield message
        while self.dropped is None:
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            message = self._queue.popleft()
            self.last_seq = message.seq
            yield message

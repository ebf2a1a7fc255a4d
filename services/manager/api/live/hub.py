"""`LiveHub`: fans the ordered feed out to every /ws client and resumes clients that reconnect.

Every message is released once, in stream-sequence order (see `Sequencer`), into a bounded ring of
recent messages and into each client's bounded queue. `subscribe(since)` replays what a client missed
(seq > since) and then continues live with no gap and no duplicate: the ring snapshot and the attach
to live messages happen with no await in between, and older messages are read from the stream up to
the ring's floor.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Callable

from nats.aio.client import Client as NatsClient

from registry.event import Event
from services.manager.api.live import metrics
from services.manager.api.live.client import CLIENT_LEFT, SHUTDOWN, Subscription
from services.manager.api.live.message import LiveMessage, kind_of
from services.manager.api.live.sequencer import Delivered, Sequencer
from services.manager.api.live.stream import StreamReader

log = logging.getLogger("gordon.manager.live")

RING_SIZE = 1000
CLIENT_QUEUE = 256
MAX_REPLAY = 10_000


class BadSince(ValueError):
    """A `since` the feed cannot resume from; `code` is the WebSocket close code to answer with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


AHEAD = 4400
"""Close code: `since` is malformed or ahead of the feed."""
GONE = 4410
"""Close code: what the client missed is no longer in the stream, or more than the replay limit."""


class LiveHub:
    """The feed: offered messages in, ordered fan-out and resume out."""

    def __init__(
        self,
        reader: StreamReader,
        *,
        ring_size: int = RING_SIZE,
        client_queue: int = CLIENT_QUEUE,
        max_replay: int = MAX_REPLAY,
    ) -> None:
        if ring_size < 1:
            raise ValueError(f"ring_size must be at least 1, got {ring_size}")
        self.reader = reader
        self.client_queue = client_queue
        self.max_replay = max_replay
        self._ring: deque[LiveMessage] = deque(maxlen=ring_size)
        self._evicted: int | None = None
        self._clients: set[Subscription] = set()
        self.sequencer = Sequencer(reader, self._publish)

    @classmethod
    def over(cls, connection: Callable[[], NatsClient], **options: int) -> LiveHub:
        """A hub reading gordon-bus over the NATS connection `connection()` returns once connected."""
        return cls(StreamReader(connection), **options)

    @property
    def clients(self) -> int:
        return len(self._clients)

    @property
    def floor(self) -> int | None:
        """The ring holds every feed message with floor < seq <= the last released one (None before
        the feed starts): the start, until the ring is full, then the last sequence it let go."""
        return self._evicted if self._evicted is not None else self.sequencer.start_seq

    def queued(self) -> list[int]:
        """How many live messages wait in each client's queue (each at most `client_queue`)."""
        return [client.queued for client in self._clients]

    def ring(self) -> list[LiveMessage]:
        return list(self._ring)

    async def offer(
        self,
        seq: int,
        subject: str,
        event: Event,
        *,
        consumer_seq: int | None = None,
        deliveries: int = 1,
    ) -> None:
        """One delivery from a durable: `event` stored at stream sequence `seq` on `subject` (a subject
        of the feed's three families; ValueError otherwise). `consumer_seq` and `deliveries`, when
        known, say where it sat in the durable's deliveries (see `Sequencer`)."""
        kind = kind_of(subject)
        if kind is None:
            raise ValueError(f"{subject} is not a subject of the live feed")
        delivered = None if consumer_seq is None else Delivered(consumer_seq, deliveries)
        await self.sequencer.offer(LiveMessage.of(seq, kind, subject, event), delivered)

    def _publish(self, message: LiveMessage) -> None:
        if len(self._ring) == self._ring.maxlen:
            self._evicted = self._ring[0].seq
        self._ring.append(message)
        metrics.RELEASED.labels(message.kind.value).inc()
        for client in list(self._clients):
            client.put(message)

    async def subscribe(self, since: int | None) -> Subscription:
        """A subscription replaying every feed message with seq > `since`, then live ones.

        None: live only. BadSince when `since` is ahead of the feed or what it missed is gone.
        """
        latest = await self.sequencer.start()
        if since is not None:
            if since < 0:
                raise BadSince(AHEAD, f"since must be a stream sequence >= 0, got {since}")
            if since > latest:
                raise BadSince(
                    AHEAD, f"since {since} is ahead of the feed (latest {latest}): reconnect without since"
                )
            if since < (self.floor or 0):
                await self._check_replayable(since)
        return self._attach(since)

    async def _check_replayable(self, since: int) -> None:
        bounds = await self.reader.bounds()
        if since + 1 < bounds.first_seq:
            raise BadSince(
                GONE,
                f"since {since} is older than the stream (first seq {bounds.first_seq}): "
                "reload and reconnect",
            )
        missed = await self.reader.pending_since(since)
        if missed > self.max_replay:
            raise BadSince(
                GONE, f"{missed} messages missed since {since}, over {self.max_replay}: reload and reconnect"
            )

    def _attach(self, since: int | None) -> Subscription:
        # No await from here to the end: the snapshot and the attach see the same released sequence.
        floor = self.floor or 0
        ring = [m for m in self._ring if since is not None and m.seq > since]
        reader = self.reader

        async def history() -> AsyncIterator[LiveMessage]:
            if since is not None and since < floor:
                async for message in reader.replay(since, floor):
                    metrics.REPLAYED.labels("stream").inc()
                    yield message
            for message in ring:
                metrics.REPLAYED.labels("ring").inc()
                yield message

        client = Subscription(self.client_queue, history, self._detach)
        self._clients.add(client)
        metrics.CLIENTS.set(len(self._clients))
        return client

    def _detach(self, client: Subscription) -> None:
        if client.dropped not in (None, CLIENT_LEFT, SHUTDOWN):
            metrics.DROPS.labels(client.dropped).inc()
            log.warning("live feed: client dropped (%s)", client.dropped)
        self._clients.discard(client)
        metrics.CLIENTS.set(len(self._clients))

    def drop_all(self, reason: str) -> None:
        """Drop every client (each is closed with `reason`; the page reconnects with its last seq)."""
        for client in list(self._clients):
            client.drop(reason)

    def close(self) -> None:
        """Drop every client and stop retrying."""
        self.drop_all(SHUTDOWN)
        self.sequencer.close()

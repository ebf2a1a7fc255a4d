"""The hub's reads of gordon-bus: the next message of one family after a sequence (to fill a gap the
durables have not delivered yet), the stream's bounds, and an ordered replay of the three families.

Every read is by stream sequence, so what it returns is exactly what the durables deliver, in stream order.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from nats.aio.client import Client as NatsClient
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from registry.codec import DecodeError
from schemas import REGISTRY
from schemas.streams import BUS
from services.manager.api.live.message import FAMILIES, Kind, LiveMessage, family_filter, kind_of

log = logging.getLogger("gordon.manager.live")

REPLAY_BATCH = 256
REPLAY_FETCH_S = 2.0
REPLAY_IDLE_S = 30.0
"""An abandoned replay consumer is removed by the server after this long."""


@dataclass(frozen=True)
class StreamBounds:
    """The sequences the stream holds now: first_seq..last_seq (first_seq = last_seq + 1 when empty)."""

    first_seq: int
    last_seq: int


class StreamReader:
    """Reads of the feed's families on gordon-bus over a NATS connection given by `connection()`."""

    def __init__(self, connection: Callable[[], NatsClient], stream: str = BUS.name) -> None:
        self._connection = connection
        self.stream = stream
        self._js: JetStreamContext | None = None
        self.gets = 0
        """Direct gets so far (what ordering the feed costs the server)."""
        self._codecs = {kind: REGISTRY.codec(subject) for kind, subject in FAMILIES.items()}

    @property
    def js(self) -> JetStreamContext:
        # One context per connection: each new one leaves a reply subscription behind.
        if self._js is None:
            self._js = self._connection().jetstream()
        return self._js

    async def bounds(self) -> StreamBounds:
        info = await self.js.stream_info(self.stream)
        return StreamBounds(info.state.first_seq, info.state.last_seq)

    async def next_of(self, kind: Kind, from_seq: int) -> tuple[int, LiveMessage | None] | None:
        """The first message of `kind` at sequence >= `from_seq`: (seq, message; None when it does not
        decode, so the feed skips it as the durable dead-letters it), or None when there is none yet."""
        self.gets += 1
        try:
            raw = await self.js.get_msg(self.stream, seq=from_seq, subject=family_filter(kind), next=True)
        except NotFoundError:
            return None
        seq = raw.seq or 0
        return seq, self.decode(seq, kind, raw.subject or "", raw.data or b"")

    def decode(self, seq: int, kind: Kind, subject: str, data: bytes) -> LiveMessage | None:
        try:
            event = self._codecs[kind].decode(data)
        except DecodeError as exc:
            log.warning("live feed: seq %s on %s skipped: %s", seq, subject, exc.reason)
            return None
        return LiveMessage.of(seq, kind, subject, event)

    async def pending_since(self, since: int) -> int:
        """How many messages of the three families the stream holds after `since`."""
        async with self._replay_consumer(since) as sub:
            info = await sub.consumer_info()
            return int(info.num_pending or 0)

    async def replay(self, since: int, through: int) -> AsyncIterator[LiveMessage]:
        """The families' messages with `since` < seq <= `through`, in stream order (an ephemeral,
        unacknowledged consumer filtered to the three families, read in batches).

        Everything up to `through` is stored before the consumer is made, so its pending count says when
        the range is read even if its last message is not one of the families'.
        """
        if through <= since:
            return
        async with self._replay_consumer(since) as sub:
            left = int((await sub.consumer_info()).num_pending or 0)
            while left > 0:
                try:
                    batch = await sub.fetch(min(left, REPLAY_BATCH), timeout=REPLAY_FETCH_S)
                except NatsTimeoutError:
                    return  # the rest was removed from the stream meanwhile (retention)
                for msg in batch:
                    left -= 1
                    seq = msg.metadata.sequence.stream
                    if seq > through:
                        return
                    kind = kind_of(msg.subject)
                    decoded = None if kind is None else self.decode(seq, kind, msg.subject, msg.data)
                    if decoded is not None:
                        yield decoded

    @contextlib.asynccontextmanager
    async def _replay_consumer(self, since: int) -> AsyncIterator[JetStreamContext.PullSubscription]:
        config = ConsumerConfig(
            filter_subjects=[family_filter(kind) for kind in Kind],
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=since + 1,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=REPLAY_IDLE_S,
            mem_storage=True,
        )
        sub = await self.js.pull_subscribe("", stream=self.stream, config=config)
        try:
            yield sub
        finally:
            name = config.name
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            if name:
                with contextlib.suppress(Exception):
                    await self.js.delete_consumer(self.stream, name)

"""`Delivery`: one decoded message from a durable consumer, with its ack handle and its way out to the DLQ."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from consumers.dead_letters import DeadLetter, send_dead_letter
from registry import headers as h
from registry.event import Event

E = TypeVar("E", bound=Event)

ACK_TIMEOUT_S = 5.0

log = logging.getLogger(__name__)


class SettledError(RuntimeError):
    """A delivery acked, nak'd or termed a second time."""


@dataclass(frozen=True)
class Redelivery:
    """How a consumer redelivers: attempts allowed, NAK delays by attempt, where dead letters go."""

    durable: str
    max_deliver: int
    backoff_s: Sequence[float]
    js: JetStreamContext

    def delay(self, deliveries: int) -> float:
        """The NAK delay after attempt `deliveries` (the last declared delay repeats)."""
        if not self.backoff_s:
            return 0.0
        return self.backoff_s[min(deliveries, len(self.backoff_s)) - 1]

    async def dead_letter(self, msg: Msg, reason: str) -> None:
        """Store `msg` in the dead-letter stream with `reason`, then TERM it (no more redeliveries)."""
        meta = msg.metadata
        letter = DeadLetter(
            subject=msg.subject,
            data=msg.data,
            headers=dict(msg.headers or {}),
            stream=meta.stream,
            sequence=meta.sequence.stream,
            consumer=self.durable,
            deliveries=meta.num_delivered,
            reason=reason,
        )
        await send_dead_letter(self.js, letter)
        await msg.term()
        log.warning("%s: seq %s dead-lettered: %s", self.durable, letter.sequence, reason)


class Delivery(Generic[E]):
    """A message the handler must settle exactly once: `ack()`, `nak(delay, reason)` or `term(reason)`.

    Ack only after the handler's transaction has committed: a crash before the ack redelivers.
    """

    def __init__(self, msg: Msg, event: E, redelivery: Redelivery) -> None:
        meta = msg.metadata
        self.event = event
        self.subject: str = msg.subject
        self.data: bytes = msg.data
        self.headers: Mapping[str, str] = dict(msg.headers or {})
        self.stream: str = meta.stream
        self.stream_seq: int = meta.sequence.stream
        self.deliveries: int = meta.num_delivered
        self.consumer = redelivery.durable
        self._msg = msg
        self._redelivery = redelivery
        self._settled = False

    @property
    def msg_id(self) -> str | None:
        """The message's Nats-Msg-Id (the event id, or `<id>:replay:<seq>` for a replayed dead letter)."""
        return self.headers.get(h.MSG_ID)

    @property
    def settled(self) -> bool:
        return self._settled

    @property
    def last_chance(self) -> bool:
        """True when a NAK of this delivery sends it to the dead letters instead of redelivering."""
        return self.deliveries >= self._redelivery.max_deliver

    async def ack(self) -> None:
        """Acknowledge, waiting for the server to confirm (so a lost ack is an error, not a surprise)."""
        self._settle()
        await self._msg.ack_sync(timeout=ACK_TIMEOUT_S)

    async def nak(self, delay: float | None = None, reason: str = "") -> bool:
        """Ask for redelivery after `delay` s (default: the declared backoff for this attempt).

        On the last allowed attempt the message goes to the dead letters with `reason` instead and
        is termed; returns True then.
        """
        self._settle()
        if self.last_chance:
            why = reason or "nak without a reason"
            await self._redelivery.dead_letter(self._msg, f"failed {self.deliveries} times: {why}")
            return True
        wait = self._redelivery.delay(self.deliveries) if delay is None else delay
        await self._msg.nak(delay=wait if wait > 0 else None)
        return False

    async def term(self, reason: str) -> None:
        """Give up now: the message goes to the dead letters with `reason`, then is termed."""
        self._settle()
        await self._redelivery.dead_letter(self._msg, reason)

    async def in_progress(self) -> None:
        """Tell the server the handler is still working, resetting the ack wait."""
        if self._settled:
            raise SettledError(f"{self.consumer}: seq {self.stream_seq} is already settled")
        await self._msg.in_progress()

    def _settle(self) -> None:
        if self._settled:
            raise SettledError(f"{self.consumer}: seq {self.stream_seq} is already settled")
        self._settled = True

    def __repr__(self) -> str:
        return (
            f"Delivery({self.consumer} seq={self.stream_seq} subject={self.subject!r} "
            f"deliveries={self.deliveries} event={type(self.event).__name__})"
        )

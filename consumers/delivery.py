"""`Delivery`: one decoded message from a pull `Consumer`, settled once through the shared consume core."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from consumers.core import Attempt, ConsumeCore
from registry import headers as h
from registry.event import Event

E = TypeVar("E", bound=Event)

ACK_TIMEOUT_S = 5.0


class SettledError(RuntimeError):
    """A delivery acked, nak'd or termed a second time."""


class Delivery(Generic[E]):
    """A message the handler must settle exactly once: `ack()`, `nak(delay, reason)` or `term(reason)`.

    Ack only after the handler's transaction has committed: a crash before the ack redelivers.
    """

    def __init__(self, attempt: Attempt[E], core: ConsumeCore[E]) -> None:
        msg = attempt.msg
        meta = msg.metadata
        self.event = attempt.event
        self.subject: str = msg.subject
        self.data: bytes = msg.data
        self.headers: Mapping[str, str] = dict(msg.headers or {})
        self.stream: str = meta.stream
        self.stream_seq: int = meta.sequence.stream
        self.deliveries: int = meta.num_delivered
        self.consumer = core.durable
        self._attempt = attempt
        self._core = core
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
        return self._core.last_chance(self.deliveries)

    async def ack(self) -> None:
        """Acknowledge, waiting for the server to confirm (so a lost ack is an error, not a surprise)."""
        self._settle()
        await self._core.ack(self._attempt, confirm_within=ACK_TIMEOUT_S)

    async def nak(self, delay: float | None = None, reason: str = "") -> bool:
        """Ask for redelivery after `delay` s (default: the declared backoff for this attempt).

        On the last allowed attempt the message goes to the dead letters with `reason` instead and
        is termed; returns True then.
        """
        self._settle()
        return await self._core.retry(self._attempt, reason or "nak without a reason", delay)

    async def term(self, reason: str) -> None:
        """Give up now: the message goes to the dead letters with `reason`, then is termed."""
        self._settle()
        await self._core.dead_letter(self._attempt.msg, reason, self._attempt)

    async def in_progress(self) -> None:
        """Tell the server the handler is still working, resetting the ack wait."""
        if self._settled:
            raise SettledError(f"{self.consumer}: seq {self.stream_seq} is already settled")
        await self._attempt.msg.in_progress()

    def _settle(self) -> None:
        if self._settled:
            raise SettledError(f"{self.consumer}: seq {self.stream_seq} is already settled")
        self._settled = True

    def __repr__(self) -> str:
        return (
            f"Delivery({self.consumer} seq={self.stream_seq} subject={self.subject!r} "
            f"deliveries={self.deliveries} event={type(self.event).__name__})"
        )

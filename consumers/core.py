"""The one consume path of a durable, shared by the FastStream subscribers and the pull `Consumer`.

`ConsumeCore` decodes, hands the event over, acks, NAKs with the declared backoff, and dead-letters:
at once for undecodable bytes, at `max_deliver` for a failing handler, and past it for a message no
attempt ever settled. `_arrived` and `_settled` are the only places a delivery's outcome is observed
(the service's consume metrics move there). Handler duration and the W3C trace context are FastStream's
Prometheus and OpenTelemetry middlewares' on the services' brokers (services/instrumentation.py): they
wrap this path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from consumers import metrics
from consumers.dead_letters import DeadLetter, send_dead_letter
from consumers.metrics import ConsumeMetrics
from registry.codec import Codec, DecodeError
from registry.event import Event
from registry.registry import Registry
from registry.subject import ConsumerSpec, Subject

E = TypeVar("E", bound=Event)

log = logging.getLogger(__name__)


class Outcome(Enum):
    """How a delivery was settled."""

    ACKED = "acked"
    """The handler succeeded; acknowledged."""
    RETRIED = "retried"
    """The handler failed; NAK'd for redelivery."""
    GAVE_UP = "gave-up"
    """The handler failed on its last chance; dead-lettered."""
    DEAD_LETTERED = "dead-lettered"
    """Dead-lettered without a handler failure: undecodable, never settled, or termed by the caller."""


@dataclass(frozen=True)
class Attempt(Generic[E]):
    """One decoded delivery in hand: the message, its event and when it arrived (the handler's clock)."""

    msg: Msg
    event: E
    started: float = field(default_factory=time.monotonic)

    @property
    def deliveries(self) -> int:
        """How many times the server has delivered this message, this time included."""
        return self.msg.metadata.num_delivered


@dataclass(frozen=True)
class ConsumeCore(Generic[E]):
    """How one durable consumes: its codec, attempts allowed, NAK delays by attempt, where letters go."""

    durable: str
    codec: Codec[E]
    max_deliver: int
    backoff_s: Sequence[float]
    jetstream: Callable[[], JetStreamContext]
    """Where dead letters are published; a callable because a broker's connection exists once started."""
    metrics: ConsumeMetrics
    """The consuming service's counters."""

    @classmethod
    def declared(
        cls,
        registry: Registry,
        subject: Subject[E],
        spec: ConsumerSpec,
        durable: str,
        jetstream: Callable[[], JetStreamContext],
    ) -> ConsumeCore[E]:
        """The core of `spec`'s durable `durable` of `subject`, as the registry declares it."""
        return cls(
            durable,
            registry.codec(subject),
            spec.max_deliver,
            spec.backoff_s,
            jetstream,
            metrics.of(spec.service.value),
        )

    def delay(self, deliveries: int) -> float:
        """The NAK delay after attempt `deliveries` (the last declared delay repeats; none declared: 0)."""
        if not self.backoff_s:
            return 0.0
        return self.backoff_s[min(deliveries, len(self.backoff_s)) - 1]

    def last_chance(self, deliveries: int) -> bool:
        """True when a failure of attempt `deliveries` dead-letters instead of redelivering."""
        return deliveries >= self.max_deliver

    async def receive(self, msg: Msg) -> Attempt[E] | None:
        """`msg` decoded, or None once it has been dead-lettered (undecodable, or never settled before)."""
        self._arrived(msg)
        deliveries = msg.metadata.num_delivered
        if deliveries > self.max_deliver:
            # Only a pull durable gets this spare delivery (its server max_deliver is one more).
            why = f"never settled in {deliveries - 1} deliveries (handler crashed or exceeded the ack wait)"
            await self.dead_letter(msg, why)
            return None
        try:
            event = self.codec.decode(msg.data)
        except DecodeError as exc:
            await self.dead_letter(msg, f"decode: {exc.reason}")
            return None
        return Attempt(msg, event)

    async def ack(self, attempt: Attempt[E], confirm_within: float | None = None) -> None:
        """Acknowledge; with `confirm_within` s, wait (that long at most) for the server to confirm it."""
        if confirm_within is None:
            await attempt.msg.ack()
        else:
            await attempt.msg.ack_sync(timeout=confirm_within)
        self._settled(attempt.msg, Outcome.ACKED, attempt)

    async def retry(
        self, attempt: Attempt[E], reason: str, delay: float | None = None, giving_up: str = "failed"
    ) -> bool:
        """The handler failed: NAK after `delay` (default: the declared backoff), or on the last chance
        dead-letter with "<giving_up> <n> times: <reason>"; True when it dead-lettered."""
        msg, deliveries = attempt.msg, attempt.deliveries
        if self.last_chance(deliveries):
            await self._send_letter(msg, f"{giving_up} {deliveries} times: {reason}")
            self._settled(msg, Outcome.GAVE_UP, attempt)
            return True
        wait = self.delay(deliveries) if delay is None else delay
        seq = msg.metadata.sequence.stream
        log.warning("%s: seq %s failed (%s); redelivery in %ss", self.durable, seq, reason, wait)
        await msg.nak(delay=wait if wait > 0 else None)
        self._settled(msg, Outcome.RETRIED, attempt)
        return False

    async def dead_letter(self, msg: Msg, reason: str, attempt: Attempt[E] | None = None) -> None:
        """Store `msg` in the dead-letter stream with `reason`, then TERM it (no more redeliveries)."""
        await self._send_letter(msg, reason)
        self._settled(msg, Outcome.DEAD_LETTERED, attempt)

    async def _send_letter(self, msg: Msg, reason: str) -> None:
        """Publish the letter, TERM `msg` and say so in the log; the callers observe the outcome."""
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
        await send_dead_letter(self.jetstream(), letter)
        await msg.term()
        log.warning("%s: seq %s dead-lettered: %s", self.durable, letter.sequence, reason)

    async def handle(self, msg: Msg, handler: Callable[[E], Awaitable[None]]) -> None:
        """Run `handler` on `msg` to the end: ack after it returns, retry (or dead-letter) if it raises."""
        attempt = await self.receive(msg)
        if attempt is None:
            return
        try:
            await handler(attempt.event)
        except Exception as exc:
            await self.retry(attempt, f"{type(exc).__name__}: {exc}", giving_up="handler failed")
            return
        await self.ack(attempt)

    def _arrived(self, msg: Msg) -> None:
        """Observe a delivery before decoding."""
        if msg.metadata.num_delivered > 1:
            self.metrics.redelivery(msg.subject, self.durable)

    def _settled(self, msg: Msg, outcome: Outcome, attempt: Attempt[E] | None) -> None:
        """Observe a settled delivery."""
        if outcome is Outcome.ACKED:
            self.metrics.acked(msg.subject, self.durable)
            return
        if outcome in (Outcome.RETRIED, Outcome.GAVE_UP):
            self.metrics.handler_failed(msg.subject, self.durable)
        if outcome in (Outcome.GAVE_UP, Outcome.DEAD_LETTERED):
            self.metrics.dead_lettered(msg.subject, self.durable)

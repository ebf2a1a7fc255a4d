"""`Consumer`: a pull-based durable consumer bound from the registry, yielding decoded `Delivery`s in order.

The durable is created with the declared config when missing and brought back to it when it drifted
(nats-py binds an existing durable as it is). Two deliberate differences from the declaration as the
server sees it: no server-side `backoff` (nats-server replaces `ack_wait` with `backoff[0]`, so a
30 s ack wait became 1 s; the declared backoff is applied to NAKs instead), and `max_deliver` + 1
(the extra delivery only happens when the last attempt was never settled — a crash or an expired
ack wait — and is spent sending the message to the dead letters, never losing it silently).
Decoding, NAK delays and dead letters are the shared `ConsumeCore`'s, as for the FastStream subscribers.
"""

from __future__ import annotations

import asyncio
import dataclasses
from types import TracebackType
from typing import Any, Generic, TypeVar

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, ConsumerInfo
from nats.js.errors import NotFoundError

from consumers.core import ConsumeCore
from consumers.delivery import Delivery
from consumers.subscription import consumer_config
from registry.event import Event
from registry.registry import Registry
from registry.subject import ConsumerSpec, Service, Subject

E = TypeVar("E", bound=Event)

POLL_S = 1.0
"""Longest single pull request; a closed consumer stops within this."""

_UPDATABLE = ("filter_subject", "max_deliver", "ack_wait", "backoff", "max_ack_pending", "description")


class ConsumerConfigError(RuntimeError):
    """An existing durable that cannot be brought to the declared config; one line saying why."""


class ConsumerClosedError(RuntimeError):
    """`next()` on a closed consumer."""


def pull_config(subject: Subject[Any], spec: ConsumerSpec, values: dict[str, str]) -> ConsumerConfig:
    """The server config of a declared durable read by `Consumer` (see the module docstring)."""
    config = consumer_config(subject, spec, values)
    config.backoff = None
    config.max_deliver = spec.max_deliver + 1
    config.description = spec.description or f"{spec.service} consumer of {subject.template_text}"
    return config


async def ensure_durable(js: JetStreamContext, stream: str, wanted: ConsumerConfig) -> str:
    """Create the durable `wanted` names, or update it where it differs; says which it did."""
    name = wanted.durable_name or ""
    try:
        info = await js.consumer_info(stream, name)
    except NotFoundError:
        await js.add_consumer(stream, wanted)
        return "created"
    current = info.config
    if current.deliver_subject:
        raise ConsumerConfigError(
            f"durable {name} on {stream} is a push consumer; a pull Consumer cannot bind it (delete it first)"
        )
    if current.ack_policy != wanted.ack_policy:
        raise ConsumerConfigError(
            f"durable {name} on {stream} has ack policy {current.ack_policy}, declared "
            f"{wanted.ack_policy}; the server cannot change it (delete the durable)"
        )
    drift = [k for k in _UPDATABLE if _norm(getattr(current, k)) != _norm(getattr(wanted, k))]
    if not drift:
        return "unchanged"
    # Where a durable starts is fixed at creation; the server refuses to change it.
    update = dataclasses.replace(
        wanted,
        deliver_policy=current.deliver_policy,
        opt_start_seq=current.opt_start_seq,
        opt_start_time=current.opt_start_time,
    )
    await js.add_consumer(stream, update)
    return "updated: " + ", ".join(drift)


def _norm(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == [] or value == "":
        return None
    return value


class Consumer(Generic[E]):
    """One instance of a service's durable consumer of one subject.

    `await consumer.next(timeout)` returns the next `Delivery` (or raises TimeoutError); `async for`
    does the same forever. At most `in_flight` deliveries may be unsettled at once (1 by default, so
    the stream's order is kept). A delivery left unsettled by a crash comes back after the ack wait,
    behind later messages unless the durable declares `max_ack_pending=1`. Undecodable messages never
    reach the caller: they are dead-lettered with the decode reason and termed.
    """

    def __init__(
        self,
        js: JetStreamContext,
        sub: JetStreamContext.PullSubscription,
        core: ConsumeCore[E],
        info: ConsumerInfo,
        applied: str,
        in_flight: int = 1,
    ) -> None:
        self.js = js
        self.core = core
        self.codec = core.codec
        self.durable = core.durable
        self.info = info
        self.applied = applied
        self.in_flight = in_flight
        self._sub = sub
        self._unsettled: list[Delivery[E]] = []
        self._closed = False

    @classmethod
    async def open(
        cls,
        js: JetStreamContext,
        registry: Registry,
        subject: Subject[E],
        service: Service,
        *,
        in_flight: int = 1,
        **values: str,
    ) -> Consumer[E]:
        """Bind `service`'s durable of `subject` (creating or updating it) on the live stream.

        `values` are the durable's instance and bound parameters (such as `bot_id`).
        """
        if in_flight < 1:
            raise ValueError(f"in_flight must be at least 1, got {in_flight}")
        spec = subject.consumer(service)
        config = pull_config(subject, spec, values)
        durable = config.durable_name or ""
        stream = registry.stream_of(subject).name
        applied = await ensure_durable(js, stream, config)
        sub = await js.pull_subscribe_bind(durable=durable, stream=stream)
        info = await js.consumer_info(stream, durable)
        core = ConsumeCore.declared(registry, subject, spec, durable, lambda: js)
        return cls(js, sub, core, info, applied, in_flight)

    # The timeout is each pull request's expiry: cancelling a fetch from outside could strand a message
    # the server already sent until its ack wait runs out.
    async def next(self, timeout: float | None = None) -> Delivery[E]:  # noqa: ASYNC109
        """The next decodable message; TimeoutError when none comes within `timeout` s (None: wait on)."""
        if self._closed:
            raise ConsumerClosedError(f"{self.durable}: consumer is closed")
        self._unsettled = [d for d in self._unsettled if not d.settled]
        if len(self._unsettled) >= self.in_flight:
            raise RuntimeError(
                f"{self.durable}: {len(self._unsettled)} deliveries unsettled (in_flight={self.in_flight}); "
                "ack, nak or term them first"
            )
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            wait = POLL_S if deadline is None else min(POLL_S, deadline - loop.time())
            if wait < 0.01:
                raise TimeoutError(f"{self.durable}: no message within {timeout} s")
            try:
                msgs = await self._sub.fetch(1, timeout=wait)
            except NatsTimeoutError:
                if self._closed:
                    raise ConsumerClosedError(f"{self.durable}: consumer is closed") from None
                continue
            attempt = await self.core.receive(msgs[0])
            if attempt is not None:
                delivery = Delivery(attempt, self.core)
                self._unsettled.append(delivery)
                return delivery

    async def close(self) -> None:
        """Stop pulling; the durable stays. Unsettled deliveries come back after the ack wait."""
        if self._closed:
            return
        self._closed = True
        await self._sub.unsubscribe()

    def __aiter__(self) -> Consumer[E]:
        return self

    async def __anext__(self) -> Delivery[E]:
        try:
            return await self.next()
        except ConsumerClosedError:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Consumer[E]:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

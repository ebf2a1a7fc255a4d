"""FastStream subscribers built from a registry declaration: a durable push consumer with manual acks,
each message run through the shared consume path (consumers.core: decode, ack, backoff, dead letters)."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy

from consumers.core import ConsumeCore
from registry.event import Event
from registry.registry import Registry
from registry.subject import ConsumerSpec, Service, StartAt, Subject
from settings import nats_login

E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]

_DELIVER = {
    StartAt.NEW: DeliverPolicy.NEW,
    StartAt.ALL: DeliverPolicy.ALL,
    StartAt.LAST_PER_SUBJECT: DeliverPolicy.LAST_PER_SUBJECT,
}


def durable_name(subject: Subject[Any], spec: ConsumerSpec, values: dict[str, str]) -> str:
    """The durable name of `spec` for these instance and bound-parameter values (each one checked)."""
    for name in spec.binds:
        subject.param(name).check(values[name])
    for param in spec.instance:
        param.check(values[param.name])
    return spec.durable_template.render(values)


def consumer_config(subject: Subject[Any], spec: ConsumerSpec, values: dict[str, str]) -> ConsumerConfig:
    """The JetStream consumer config of a declared durable: explicit ack, bounded redelivery.

    No server-side `backoff`: nats-server would replace `ack_wait` with its first step. The declared
    backoff is applied to NAKs instead.
    """
    bound = {name: values[name] for name in spec.binds}
    durable = durable_name(subject, spec, values)
    return ConsumerConfig(
        # `name` too: clients then create it on `$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`,
        # a subject NATS permissions can limit to the service's own durables and filters.
        name=durable,
        durable_name=durable,
        filter_subject=subject.template.wildcard(bound),
        deliver_policy=_DELIVER[spec.start_at],
        ack_policy=JsAckPolicy.EXPLICIT,
        max_deliver=spec.max_deliver,
        ack_wait=spec.ack_wait_s,
        max_ack_pending=spec.max_ack_pending,
    )


async def _undecoded(msg: NatsMessage) -> bytes:
    """The body as is: the codec decodes it. FastStream's default JSON decoding raised RecursionError on
    deeply nested bytes before the handler ran, so such a message was neither dead-lettered nor acked."""
    return msg.body


def subscriber(
    broker: NatsBroker,
    registry: Registry,
    subject: Subject[E],
    service: Service,
    **values: str,
) -> Callable[[Handler[E]], Handler[E]]:
    """A decorator registering `handler` as `service`'s durable consumer of `subject`.

    The handler gets the newest payload type (older versions upcast). It is acked after it returns
    (so after its transaction commits); an exception NAKs with the declared backoff; at `max_deliver`
    the message goes to the dead-letter stream and is terminated. Undecodable bytes are dead-lettered
    at once: redelivering them cannot help. All of that is `ConsumeCore.handle`, the pull `Consumer`'s too.
    """
    spec = subject.consumer(service)
    config = consumer_config(subject, spec, values)
    durable = config.durable_name or ""
    # A fixed deliver subject under the service's own inbox: the durable keeps working once NATS
    # authorization (gordon.nats_auth) lets the service subscribe only there, whoever created it.
    config.deliver_subject = f"{nats_login.inbox_prefix(service.value)}.{durable}"
    with warnings.catch_warnings():
        # One push durable per logical consumer is the point: it keeps the stream's order.
        warnings.filterwarnings("ignore", "The JetStream Push consumer", RuntimeWarning)
        sub = broker.subscriber(
            config.filter_subject or "",
            stream=JStream(registry.bus.name, declare=False),
            durable=durable,
            config=config,
            deliver_policy=config.deliver_policy,
            ack_policy=AckPolicy.MANUAL,
            decoder=_undecoded,
            title=f"{durable}:{subject.template_text}",
        )

    # The broker connects on start: its JetStream context is looked up when a letter is sent.
    core = ConsumeCore.declared(registry, subject, spec, durable, lambda: broker.connection.jetstream())

    def decorate(handler: Handler[E]) -> Handler[E]:
        async def run(msg: NatsMessage) -> None:
            await core.handle(msg.raw_message, handler)

        sub(run)
        return handler

    return decorate

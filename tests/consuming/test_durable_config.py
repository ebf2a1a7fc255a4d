"""A durable that exists with another config is brought back to the declared one (nats-py would not)."""

from __future__ import annotations

import dataclasses

import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from consumers.consumer import Consumer, ConsumerConfigError, pull_config
from registry.subject import Service
from schemas import streams
from tests.consuming.conftest import TEST_REGISTRY, TICKS, Tick, publish

SPEC = TICKS.consumer(Service.MANAGER)


def declared() -> ConsumerConfig:
    return pull_config(TICKS, SPEC, {})


async def test_drifted_max_deliver_and_ack_wait_are_updated_to_the_declaration(bus: JetStreamContext) -> None:
    stale = dataclasses.replace(declared(), max_deliver=10, ack_wait=7.0, max_ack_pending=5)
    await bus.add_consumer(streams.BUS.name, stale)

    consumer = await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.MANAGER)
    assert consumer.applied == "updated: max_deliver, ack_wait, max_ack_pending"
    info = await bus.consumer_info(streams.BUS.name, "manager-tick")
    assert info.config.max_deliver == SPEC.max_deliver + 1  # one spare delivery, see consumers.consumer
    assert info.config.ack_wait == SPEC.ack_wait_s
    assert info.config.max_ack_pending == SPEC.max_ack_pending
    assert not info.config.backoff
    await consumer.close()

    again = await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.MANAGER)
    assert again.applied == "unchanged"
    await again.close()


async def test_an_updated_durable_keeps_its_position_and_where_it_started(bus: JetStreamContext) -> None:
    await publish(bus, Tick(n=1))
    stale = dataclasses.replace(declared(), deliver_policy=DeliverPolicy.NEW, max_deliver=10)
    await bus.add_consumer(streams.BUS.name, stale)  # created after tick 1: starts at new messages
    await publish(bus, Tick(n=2))

    consumer = await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.MANAGER)
    assert consumer.applied == "updated: max_deliver"
    delivery = await consumer.next(timeout=5)
    assert delivery.event.n == 2
    await delivery.ack()
    info = await bus.consumer_info(streams.BUS.name, "manager-tick")
    assert info.config.deliver_policy == DeliverPolicy.NEW
    await consumer.close()


async def test_declared_ack_wait_holds_although_a_backoff_is_declared(bus: JetStreamContext) -> None:
    # nats-server sets ack_wait to backoff[0] when a consumer has a backoff: 30 s would become 1 s.
    spec = TICKS.consumer(Service.RISK)
    consumer = await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.RISK)
    info = await bus.consumer_info(streams.BUS.name, "risk-tick")
    assert spec.backoff_s[0] < spec.ack_wait_s
    assert info.config.ack_wait == spec.ack_wait_s
    await consumer.close()


async def test_a_push_durable_of_the_same_name_is_refused_in_one_line(bus: JetStreamContext) -> None:
    push = dataclasses.replace(declared(), deliver_subject="deliver.manager-tick")
    await bus.add_consumer(streams.BUS.name, push)
    with pytest.raises(ConsumerConfigError, match="push consumer") as error:
        await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.MANAGER)
    assert "\n" not in str(error.value)

"""Fixtures for registry tests: the platform's streams, fresh per test, small enough for any disk."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import pytest
from nats.aio.client import Client as NatsClient

from registry.streams import MIB, StreamSpec
from schemas import REGISTRY

TEST_MAX_BYTES = 64 * MIB


def small_spec(spec: StreamSpec) -> StreamSpec:
    """`spec` as tests run it: deletable, and capped at 64 MiB."""
    return dataclasses.replace(spec, deny_delete=False, max_bytes=min(spec.max_bytes, TEST_MAX_BYTES))


@pytest.fixture
def fresh_bus(
    nats: NatsClient, fresh_stream: Callable[..., Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """`await fresh_bus()`: delete and recreate gordon-bus, gordon-history and gordon-dlq."""

    async def fresh() -> None:
        for spec in REGISTRY.streams:
            await fresh_stream(small_spec(spec).config())

    return fresh

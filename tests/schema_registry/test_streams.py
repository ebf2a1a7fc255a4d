"""Streams from the registry against a real nats-server: created, idempotent, updated, sourced."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NatsClient
from nats.js.errors import BadRequestError, NotFoundError

from bench.samples import samples
from producers.channels import FILLS, KLINES
from registry import headers as h
from registry.streams import ensure_streams
from schemas import REGISTRY
from schemas.common import bot_token
from schemas.market import Kline
from schemas.trading import Fill
from tests.conftest import small_spec

SPECS = [small_spec(s) for s in REGISTRY.streams]


ANCHOR = "test-anchor"


async def _delete_all(nats: NatsClient) -> None:
    """Delete the registry's streams, keeping one unrelated stream: with none left, nats-server removes the
    account's store folder in the background and a create racing that fails (10049)."""
    js = nats.jetstream()
    with contextlib.suppress(BadRequestError):  # already there
        await js.add_stream(name=ANCHOR, subjects=[ANCHOR])
    for spec in SPECS:
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(spec.name)


async def test_streams_are_created_then_left_alone_then_updated(nats: NatsClient) -> None:
    await _delete_all(nats)
    js = nats.jetstream()
    assert await ensure_streams(js, SPECS) == {s.name: "created" for s in SPECS}
    assert await ensure_streams(js, SPECS) == {s.name: "unchanged" for s in SPECS}

    bus = await js.stream_info("gordon-bus")
    assert sorted(bus.config.subjects or []) == ["intents.>", "market.klines.>", "risk.>", "trading.>"]
    assert bus.config.max_age == 168 * 3600
    assert bus.config.duplicate_window == 120

    shorter = [dataclasses.replace(s, max_age_s=3600.0) if s.name == "gordon-bus" else s for s in SPECS]
    outcome = await ensure_streams(js, shorter)
    assert outcome["gordon-bus"] == "updated: max_age"
    assert (await js.stream_info("gordon-bus")).config.max_age == 3600


async def test_history_sources_trading_not_klines(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    fill, kline = samples()[Fill], samples()[Kline]
    fills_at = FILLS(bot_id=bot_token(fill.bot_id)).concrete
    klines_at = KLINES(market="spot", symbol_lc="btcusdt", tf="1m").concrete
    await js.publish(
        fills_at, REGISTRY.codec(FILLS.subject).encode(fill), headers={h.MSG_ID: str(fill.event_id)}
    )
    await js.publish(
        klines_at, REGISTRY.codec(KLINES.subject).encode(kline), headers={h.MSG_ID: str(kline.event_id)}
    )
    for _ in range(100):
        if (await js.stream_info("gordon-history")).state.messages >= 1:
            break
        await asyncio.sleep(0.1)
    history = await js.stream_info("gordon-history")
    assert history.state.messages == 1
    stored = await js.get_msg("gordon-history", 1)
    assert stored.subject == fills_at
    assert (await js.stream_info("gordon-bus")).state.messages == 2


async def test_duplicate_msg_id_is_dropped(
    nats: NatsClient, fresh_bus: Callable[[], Awaitable[None]]
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    fill = samples()[Fill]
    at = FILLS(bot_id=bot_token(fill.bot_id)).concrete
    data = REGISTRY.codec(FILLS.subject).encode(fill)
    first = await js.publish(at, data, headers={h.MSG_ID: str(fill.event_id)})
    again = await js.publish(at, data, headers={h.MSG_ID: str(fill.event_id)})
    assert not first.duplicate
    assert again.duplicate
    assert again.seq == first.seq

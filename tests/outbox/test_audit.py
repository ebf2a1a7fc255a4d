"""`gordon outbox audit` against real servers: a message deleted from the stream is found and republished."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from gordon.cli import main
from producers.audit import audit
from registry import headers as h
from registry.ids import uuid7
from schemas import REGISTRY
from tests.conftest import small_spec
from tests.outbox.conftest import Stored, count_unpublished, order_event, running, wait_until, write

BUS = REGISTRY.bus.name
SHORT_DEDUP_S = 1.0


async def published_events(
    database: str, nats: NatsClient, fresh_stream: Callable[[StreamConfig], Awaitable[None]], dedup_s: float
) -> list[str]:
    """A fresh gordon-bus (duplicate window `dedup_s`), five events written and drained; their ids."""
    await fresh_stream(dataclasses.replace(small_spec(REGISTRY.bus), duplicate_window_s=dedup_s).config())
    conn = await asyncpg.connect(database)
    try:
        order = uuid7()
        for version in range(1, 6):
            await write(conn, order_event(order, version))
    finally:
        await conn.close()
    async with running(database, nats):
        await wait_until(lambda: _none_left(database), "the drain to publish every row")
    return [s.msg_id for s in await stored(nats.jetstream())]


async def stored(js: JetStreamContext) -> list[Stored]:
    """The messages gordon-bus holds, in stream order, skipping deleted sequence numbers."""
    info = await js.stream_info(BUS)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            msg = await js.get_msg(BUS, seq)
        except NotFoundError:
            continue
        headers = dict(msg.headers or {})
        out.append(Stored(seq, msg.subject or "", headers.get(h.MSG_ID, ""), headers, msg.data or b""))
    return out


async def _none_left(database: str) -> bool:
    return await count_unpublished(database) == 0


async def test_nothing_missing_means_nothing_republished(
    database: str, nats: NatsClient, fresh_stream: Callable[[StreamConfig], Awaitable[None]]
) -> None:
    ids = await published_events(database, nats, fresh_stream, SHORT_DEDUP_S)
    conn = await asyncpg.connect(database)
    seen: list[tuple[int, int | None]] = []
    try:
        report = await audit(conn, nats.jetstream(), BUS, progress=lambda n, total: seen.append((n, total)))
    finally:
        await conn.close()
    assert seen == [(n, 5) for n in range(1, 6)], "the stream's Msg-Ids read, of how many there are"
    assert (report.checked, report.in_stream, report.missing, report.republished) == (5, 5, [], [])
    assert report.ok
    assert [s.msg_id for s in await stored(nats.jetstream())] == ids


async def test_a_deleted_message_is_found_and_republished_with_its_headers(
    database: str, nats: NatsClient, fresh_stream: Callable[[StreamConfig], Awaitable[None]]
) -> None:
    await published_events(database, nats, fresh_stream, SHORT_DEDUP_S)
    js = nats.jetstream()
    before = await stored(js)
    lost = before[2]
    assert await js.delete_msg(BUS, lost.seq)
    await asyncio.sleep(SHORT_DEDUP_S + 0.5)  # past the duplicate window, or the stream drops the resend
    conn = await asyncpg.connect(database)
    try:
        report = await audit(conn, js, BUS)
        again = await audit(conn, js, BUS)
    finally:
        await conn.close()
    assert report.missing == [lost.msg_id]
    assert report.republished == [lost.msg_id]
    assert report.ok
    after = await stored(js)
    back = [s for s in after if s.msg_id == lost.msg_id]
    assert len(back) == 1
    assert back[0].data == lost.data
    assert back[0].subject == lost.subject
    assert {k: v for k, v in back[0].headers.items() if k.startswith(("Gordon-", h.MSG_ID))} == {
        k: v for k, v in lost.headers.items() if k.startswith(("Gordon-", h.MSG_ID))
    }
    assert (again.missing, again.in_stream) == ([], 5)


async def test_a_resend_inside_the_duplicate_window_is_reported_not_stored(
    database: str, nats: NatsClient, fresh_stream: Callable[[StreamConfig], Awaitable[None]]
) -> None:
    await published_events(database, nats, fresh_stream, 120.0)
    js = nats.jetstream()
    lost = (await stored(js))[1]
    assert await js.delete_msg(BUS, lost.seq)
    conn = await asyncpg.connect(database)
    try:
        report = await audit(conn, js, BUS)
    finally:
        await conn.close()
    assert report.missing == [lost.msg_id]
    assert report.republished == []
    assert "duplicate window" in report.not_stored[lost.msg_id]
    assert not report.ok


async def test_since_ms_limits_the_audit_to_later_rows(
    database: str, nats: NatsClient, fresh_stream: Callable[[StreamConfig], Awaitable[None]]
) -> None:
    await published_events(database, nats, fresh_stream, SHORT_DEDUP_S)
    conn = await asyncpg.connect(database)
    try:
        newest = int(await conn.fetchval("SELECT max(published_at_ms) FROM bus.outbox"))
        report = await audit(conn, nats.jetstream(), BUS, newest + 1)
    finally:
        await conn.close()
    assert report.checked == 0
    assert report.ok


async def test_cli_republishes_and_exits_zero(
    database: str,
    nats: NatsClient,
    nats_url: str,
    fresh_stream: Callable[[StreamConfig], Awaitable[None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await published_events(database, nats, fresh_stream, SHORT_DEDUP_S)
    js = nats.jetstream()
    lost = (await stored(js))[0]
    assert await js.delete_msg(BUS, lost.seq)
    await asyncio.sleep(SHORT_DEDUP_S + 0.5)
    argv = ["outbox", "audit", "--database-url", database, "--nats-url", nats_url]
    code = await asyncio.to_thread(main, argv)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 missing, 1 republished, 0 not stored" in out
    assert lost.msg_id in {s.msg_id for s in await stored(js)}


def test_cli_refuses_a_bad_since_ms_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["outbox", "audit", "--since-ms", "yesterday"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--since-ms wants unix milliseconds, got 'yesterday'" in err

"""Outbox audit: every row marked published must be in the stream; republish the ones that are not.

A row is marked only after JetStream acked it, so a row whose message is gone was lost afterwards (a
deleted message, a stream restored from an old snapshot). The audit reads the Msg-Ids the stream holds
(headers only, from an ordered consumer starting shortly before the oldest audited row was written) and
republishes each missing event with its original headers and Msg-Id. Rows published before the stream's
first message (by more than the clock slack) are left alone: the stream's own limits aged them out, and
republishing them would put old events after new ones. An empty stream holding none of them was lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from producers.drain.pipeline import headers_of
from producers.drain.store import Row
from registry import headers as h

CLOCK_SLACK_MS = 5_000
"""How far before the oldest audited row the stream is read (clocks of Postgres clients and NATS differ)."""

MARKED = """
SELECT id, event_id::text, published_at_ms FROM bus.outbox
WHERE published_at_ms IS NOT NULL AND published_at_ms >= $1 ORDER BY id
"""

OLDEST_CREATED = """
SELECT min(created_at_ms) FROM bus.outbox WHERE published_at_ms IS NOT NULL AND published_at_ms >= $1
"""

ROWS = """
SELECT id, event_id, subject, payload, headers::text, schema_name, schema_version, producer, trace_id
FROM bus.outbox WHERE id = ANY($1::bigint[]) ORDER BY id
"""


@dataclass
class AuditReport:
    """What the audit found and did."""

    checked: int = 0
    in_stream: int = 0
    aged_out: int = 0
    missing: list[str] = field(default_factory=list)
    republished: list[str] = field(default_factory=list)
    not_stored: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing was missing, or everything missing is back in the stream."""
        return not self.not_stored and len(self.republished) == len(self.missing)

    def line(self) -> str:
        return (
            f"checked {self.checked} published rows: {self.in_stream} in the stream, {len(self.missing)} "
            f"missing, {len(self.republished)} republished, {len(self.not_stored)} not stored, "
            f"{self.aged_out} aged out by the stream's limits"
        )


async def stream_msg_ids(
    js: JetStreamContext,
    stream: str,
    since_ms: int,
    idle_s: float = 2.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> set[str]:
    """Msg-Ids of the messages `stream` holds from `since_ms` (stream time) to its last message now
    (`progress(read, to read)` after each)."""
    info = await js.stream_info(stream)
    last = info.state.last_seq
    if info.state.messages == 0:
        return set()
    start = datetime.fromtimestamp(max(since_ms, 0) / 1000, UTC)
    sub = await js.subscribe(
        ">",
        stream=stream,
        ordered_consumer=True,
        headers_only=True,
        deliver_policy=DeliverPolicy.BY_START_TIME,
        config=ConsumerConfig(opt_start_time=start),
    )
    ids: set[str] = set()
    read = 0
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=idle_s)
            except NatsTimeoutError:
                break  # nothing at or after the start time, or the server stopped delivering
            if msg.headers and h.MSG_ID in msg.headers:
                ids.add(msg.headers[h.MSG_ID])
            meta = msg.metadata
            read += 1
            if progress is not None:
                progress(read, read + meta.num_pending)
            if meta.sequence.stream >= last or meta.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    return ids


async def audit(
    conn: asyncpg.Connection,
    js: JetStreamContext,
    stream: str,
    since_ms: int = 0,
    *,
    republish: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
) -> AuditReport:
    """Compare rows published at or after `since_ms` with `stream`; republish the missing ones.
    `progress` follows the read of the stream's Msg-Ids (the long part)."""
    report = AuditReport()
    marked = await conn.fetch(MARKED, since_ms)
    report.checked = len(marked)
    if not marked:
        return report
    info = await js.stream_info(stream)
    first_ms = await _first_ms(js, stream, info.state.first_seq) if info.state.messages else None
    oldest_created = int(await conn.fetchval(OLDEST_CREATED, since_ms))
    held = await stream_msg_ids(js, stream, oldest_created - CLOCK_SLACK_MS, progress=progress)
    lost: list[int] = []
    for row_id, event_id, published_at_ms in marked:
        if event_id in held:
            report.in_stream += 1
        elif first_ms is not None and published_at_ms < first_ms - CLOCK_SLACK_MS:
            report.aged_out += 1
        else:
            report.missing.append(event_id)
            lost.append(row_id)
    if republish and lost:
        await _republish(conn, js, stream, lost, report)
    return report


async def _republish(
    conn: asyncpg.Connection, js: JetStreamContext, stream: str, ids: list[int], report: AuditReport
) -> None:
    for r in await conn.fetch(ROWS, ids):
        row = Row(r[0], str(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8])
        try:
            ack = await js.publish(row.subject, row.payload, headers=headers_of(row), stream=stream)
        except Exception as exc:  # any failure is reported per event; the rest go on
            report.not_stored[row.event_id] = f"{type(exc).__name__}: {exc}"
            continue
        if ack.duplicate:
            report.not_stored[row.event_id] = (
                "deduplicated: its Msg-Id is still in the stream's duplicate window; audit again later"
            )
        else:
            report.republished.append(row.event_id)


async def _first_ms(js: JetStreamContext, stream: str, seq: int) -> int | None:
    """Stream time of the stream's first message, in unix milliseconds."""
    msg = await js.get_msg(stream, seq)
    return None if msg.time is None else int(msg.time.timestamp() * 1000)

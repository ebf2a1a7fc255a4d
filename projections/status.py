"""Where each projection is: live generation, tracking, how far the history stream is ahead, halts."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from projections import generations, tracking
from projections.base import Projection
from registry.registry import Registry


@dataclass(frozen=True)
class Status:
    """One projection. `pending`: events of its subject in the history stream after `processed_seq`
    (None when the stream is missing); `history_last_seq`: the stream's last sequence, any subject."""

    name: str
    generation: int | None
    tables: bool
    last_seq: int | None
    processed_seq: int | None
    history_last_seq: int | None
    pending: int | None
    halted_seq: int | None
    halted_reason: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def pending_after(js: JetStreamContext, stream: str, subject_filter: str, seq: int) -> int:
    """How many messages matching `subject_filter` the stream holds after `seq` (a throwaway consumer,
    named so the create request carries its filter: NATS permissions of a least-privileged user match it)."""
    info = await js.add_consumer(
        stream,
        ConsumerConfig(
            name=f"pending-{uuid.uuid4().hex}",
            filter_subject=subject_filter,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=seq + 1,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=10.0,
            mem_storage=True,
        ),
    )
    try:
        return int(info.num_pending or 0)
    finally:
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, info.name)


async def status(
    owner: asyncpg.Connection,
    js: JetStreamContext,
    registry: Registry,
    projections: Iterable[Projection[Any, Any]],
) -> list[Status]:
    """The status of each projection, in the order given."""
    stream = registry.history.name
    try:
        history_last: int | None = (await js.stream_info(stream)).state.last_seq
    except NotFoundError:
        history_last = None
    found = []
    for p in projections:
        generation = await generations.live_generation(owner, p)
        schema = generations.schema_of(p, generation) if generation is not None else None
        if schema is None or not await generations.exists(owner, schema):
            found.append(Status(p.name, generation, False, None, None, history_last, None, None, None))
            continue
        state = await tracking.read(owner, schema)
        pending = None
        if history_last is not None:
            pending = await pending_after(js, stream, p.subject.template.wildcard(), state.processed_seq)
        found.append(
            Status(
                p.name,
                generation,
                True,
                state.last_seq,
                state.processed_seq,
                history_last,
                pending,
                state.halted_seq,
                state.halted_reason,
            )
        )
    return found


def table(rows: list[Status]) -> str:
    """A plain text table, one projection a line."""
    header = ("NAME", "GEN", "LAST", "PROCESSED", "HISTORY", "LAG", "HALTED")
    lines = [header]
    for s in rows:
        halted = f"at {s.halted_seq}: {s.halted_reason}" if s.halted_seq is not None else "-"
        lines.append(
            (
                s.name,
                "-"
                if s.generation is None
                else str(s.generation) + ("" if s.tables else " (tables missing)"),
                _opt(s.last_seq),
                _opt(s.processed_seq),
                _opt(s.history_last_seq),
                _opt(s.pending),
                halted,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
        for line in lines
    )


def _opt(value: int | None) -> str:
    return "-" if value is None else str(value)

"""Export a stream's messages of one subject filter to a polars DataFrame (and parquet) for analysis.

Each message is decoded with its declaration's codec; the frame holds `seq`, `subject`, `ts` (the
stream's UTC timestamp) and the payload fields in their JSON form: UUIDs, enums and Decimals as
strings (a Decimal keeps the exact text it was published with, e.g. "0.30"; polars' Decimal would
force one scale on the whole column).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError

from registry.registry import Registry
from registry.streams import overlaps

META: dict[str, pl.DataType] = {"seq": pl.Int64(), "subject": pl.String(), "ts": pl.Datetime("us", "UTC")}


class ExportRefused(Exception):
    """The export cannot start; str() is one line saying why."""


@dataclass(frozen=True)
class Exported:
    stream: str
    subject_filter: str
    rows: int
    path: Path | None


def check_filter(registry: Registry, stream: str, subject_filter: str) -> None:
    """Refuse a filter that no declared subject, or nothing the stream stores, can match."""
    if not any(overlaps(subject_filter, s.template.wildcard()) for s in registry.subjects):
        raise ExportRefused(f"no declared subject matches {subject_filter!r}")
    spec = next((s for s in registry.streams if s.name == stream), None)
    if spec is not None and not any(overlaps(subject_filter, f) for f in spec.filters):
        raise ExportRefused(
            f"stream {stream} stores none of {subject_filter!r} (it holds {', '.join(spec.filters)})"
        )


async def read_frame(
    js: JetStreamContext, registry: Registry, stream: str, subject_filter: str, idle_s: float = 2.0
) -> pl.DataFrame:
    """Every message of `stream` matching `subject_filter` when the read starts, decoded, in order."""
    check_filter(registry, stream, subject_filter)
    try:
        info = await js.stream_info(stream, subjects_filter=subject_filter)
    except NotFoundError:
        raise ExportRefused(f"stream {stream} does not exist") from None
    expected = sum((info.state.subjects or {}).values())
    rows: list[dict[str, Any]] = []
    if expected:
        sub = await js.subscribe(
            subject_filter, stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        try:
            while True:
                msg = await sub.next_msg(timeout=idle_s)
                meta = msg.metadata
                codec = registry.codec(registry.match(msg.subject))
                payload = codec.decode(msg.data).model_dump(mode="json")
                rows.append(
                    {"seq": meta.sequence.stream, "subject": msg.subject, "ts": meta.timestamp, **payload}
                )
                if meta.num_pending == 0 or len(rows) >= expected:
                    break
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
    if not rows:
        return pl.DataFrame(schema=META)
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("seq").cast(pl.Int64), pl.col("ts").cast(pl.Datetime("us", "UTC"))
    )


async def export(
    js: JetStreamContext, registry: Registry, stream: str, subject_filter: str, out: Path
) -> Exported:
    """Write the matching messages to parquet at `out`."""
    frame = await read_frame(js, registry, stream, subject_filter)
    frame.write_parquet(out)
    return Exported(stream, subject_filter, frame.height, out)

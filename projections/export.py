"""Export a stream's messages of one subject filter to a polars DataFrame (and parquet) for analysis.

Each message is decoded with its declaration's codec; the frame holds `seq`, `subject`, `ts` (the
stream's UTC timestamp) and the payload fields: UUIDs and enums as strings, floats as floats, and every
`Decimal` field (quantities, fees) as a polars Decimal column, so a reader computes with exact values
instead of parsing text. A column has one scale: the largest any of its values needs, so no value loses
a digit (`0.3` and `0.30` are the same number there); a value that needs more than 38 significant
digits in all is refused, naming the column.
"""

from __future__ import annotations

import contextlib
import typing
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import BaseModel

from registry.registry import Registry
from registry.streams import overlaps

META: dict[str, pl.DataType] = {"seq": pl.Int64(), "subject": pl.String(), "ts": pl.Datetime("us", "UTC")}
MAX_PRECISION = 38
"""polars' (and parquet's 128-bit) Decimal holds at most 38 significant digits."""


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
    js: JetStreamContext,
    registry: Registry,
    stream: str,
    subject_filter: str,
    idle_s: float = 2.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> pl.DataFrame:
    """Every message of `stream` matching `subject_filter` when the read starts, decoded, in order
    (`progress(read, expected)` after each message)."""
    check_filter(registry, stream, subject_filter)
    try:
        info = await js.stream_info(stream, subjects_filter=subject_filter)
    except NotFoundError:
        raise ExportRefused(f"stream {stream} does not exist") from None
    expected = sum((info.state.subjects or {}).values())
    rows: list[dict[str, Any]] = []
    decimals: set[str] = set()
    if expected:
        sub = await js.subscribe(
            subject_filter, stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        try:
            while True:
                msg = await sub.next_msg(timeout=idle_s)
                meta = msg.metadata
                codec = registry.codec(registry.match(msg.subject))
                event = codec.decode(msg.data)
                decimals |= decimal_fields(type(event))
                payload = event.model_dump(mode="json")
                rows.append(
                    {"seq": meta.sequence.stream, "subject": msg.subject, "ts": meta.timestamp, **payload}
                )
                if progress is not None:
                    progress(len(rows), expected)
                if meta.num_pending == 0 or len(rows) >= expected:
                    break
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
    if not rows:
        return pl.DataFrame(schema=META)
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("seq").cast(pl.Int64), pl.col("ts").cast(pl.Datetime("us", "UTC"))
    )
    return frame.with_columns([decimal_column(frame[name]) for name in sorted(decimals)])


def decimal_fields(model: type[BaseModel]) -> set[str]:
    """The fields of a payload model typed Decimal (or an optional Decimal)."""
    found = set()
    for name, info in model.model_fields.items():
        kinds = typing.get_args(info.annotation) or (info.annotation,)
        if Decimal in kinds:
            found.add(name)
    return found


def decimal_column(texts: pl.Series) -> pl.Series:
    """A column of decimal texts as one polars Decimal column, at the largest scale of its values."""
    values = [None if t is None else Decimal(t) for t in texts.to_list()]
    present = [v for v in values if v is not None]
    if any(not v.is_finite() for v in present):  # the payloads refuse them; never write one half-typed
        raise ExportRefused(f"column {texts.name}: holds a value that is not a finite decimal")
    scale = max((max(-int(v.as_tuple().exponent), 0) for v in present), default=0)
    integer_digits = max((len(str(abs(int(v)))) for v in present), default=1)
    if integer_digits + scale > MAX_PRECISION:
        raise ExportRefused(
            f"column {texts.name}: its values need {integer_digits + scale} digits "
            f"({integer_digits} before the point, {scale} after), over the {MAX_PRECISION} a Decimal holds"
        )
    return pl.Series(texts.name, values, dtype=pl.Decimal(MAX_PRECISION, scale))


async def export(
    js: JetStreamContext,
    registry: Registry,
    stream: str,
    subject_filter: str,
    out: Path,
    progress: Callable[[int, int | None], None] | None = None,
) -> Exported:
    """Write the matching messages to parquet at `out`."""
    frame = await read_frame(js, registry, stream, subject_filter, progress=progress)
    frame.write_parquet(out)
    return Exported(stream, subject_filter, frame.height, out)

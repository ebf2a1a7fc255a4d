"""The three streams: the live bus, the unbounded history that replay reads, and the dead letters."""

from __future__ import annotations

from nats.js.api import DiscardPolicy

from registry.streams import HOUR, MIB, StreamSpec

BUS = StreamSpec(
    name="gordon-bus",
    description="Every event of the platform: 7 days, 768 MiB, oldest dropped first.",
    subjects=("market.klines.>", "intents.>", "risk.>", "trading.>"),
    max_age_s=168 * HOUR,
    max_bytes=768 * MIB,
    discard=DiscardPolicy.OLD,
    duplicate_window_s=120.0,
    allow_batched=True,  # the drain publishes fast batches; a server before 2.14 ignores it
)

HISTORY = StreamSpec(
    name="gordon-history",
    description="Intents, risk and trading events sourced from gordon-bus with no age limit: "
    "what projections read, live and in rebuilds.",
    sources_from="gordon-bus",
    sourced_subjects=("intents.>", "risk.>", "trading.>"),
    max_bytes=16 * 1024 * MIB,
    discard=DiscardPolicy.NEW,
    duplicate_window_s=120.0,
    deny_delete=True,
)

DLQ = StreamSpec(
    name="gordon-dlq",
    description="Dead letters: messages a consumer could not handle, with the reason.",
    subjects=("dlq.>",),
    max_age_s=30 * 24 * HOUR,
    max_bytes=1024 * MIB,
    discard=DiscardPolicy.OLD,
    duplicate_window_s=120.0,
)

ALL = (BUS, HISTORY, DLQ)

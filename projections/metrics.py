"""Prometheus metrics of the projection runners: lag behind the stream, applied and skipped events, halts."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LAG = Gauge(
    "gordon_projection_lag",
    "Events of the projection's subject not yet consumed (stream - tracking).",
    ["projection"],
)
LAST_SEQ = Gauge(
    "gordon_projection_last_seq", "The tracking row's last applied stream sequence.", ["projection"]
)
APPLIED = Counter("gordon_projection_applied", "Events folded into the read model.", ["projection"])
DUPLICATES = Counter("gordon_projection_duplicates", "Events skipped as already applied.", ["projection"])
UNDECODABLE = Counter(
    "gordon_projection_undecodable",
    "Events skipped because they do not decode (the live runner dead-letters them).",
    ["projection"],
)
HALTED = Gauge("gordon_projection_halted", "1 while the projection is halted on an event.", ["projection"])

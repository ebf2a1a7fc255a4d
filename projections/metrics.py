"""Prometheus metrics of the projection runners: lag behind the stream, applied events, halts."""

from __future__ import annotations

import time

from nats.aio.msg import Msg
from prometheus_client import Counter, Gauge

LAG = Gauge(
    "gordon_projection_lag",
    "Events of the projection's subject not yet consumed (stream - tracking).",
    ["projection"],
)
LAG_SECONDS = Gauge(
    "gordon_projection_lag_seconds",
    "How long ago the last applied event was stored, while events remain to apply (0 when caught up).",
    ["projection"],
)
LAST_SEQ = Gauge(
    "gordon_projection_last_seq", "The tracking row's last applied stream sequence.", ["projection"]
)
APPLIED = Counter("gordon_projection_applied", "Events folded into the read model.", ["projection"])
DUPLICATES = Counter("gordon_projection_duplicates", "Events skipped as already applied.", ["projection"])
HALTED = Gauge("gordon_projection_halted", "1 while the projection is halted on an event.", ["projection"])


def behind_s(last_applied: Msg, pending: int) -> float:
    """Seconds the projection is behind: the age of its last applied event while more wait, else 0."""
    if pending <= 0:
        return 0.0
    return max(time.time() - last_applied.metadata.timestamp.timestamp(), 0.0)

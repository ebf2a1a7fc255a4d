"""Prometheus metrics of the /ws feed (the default registry, exposed by the API's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CLIENTS = Gauge("gordon_live_clients", "WebSocket clients connected to the live feed.")
DROPS = Counter(
    "gordon_live_drops",
    "Live feed clients dropped by the server, by reason (slow consumer, ...).",
    ["reason"],
)
RELEASED = Counter("gordon_live_messages", "Messages the live feed released, by kind.", ["kind"])
REPLAYED = Counter(
    "gordon_live_replayed", "Messages sent to resuming clients, by source (ring or stream).", ["source"]
)

"""Prometheus metrics of the /ws feed, in the manager's registry (served by the API's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from consumers.metrics import registry_of

MANAGER = registry_of("manager")

CLIENTS = Gauge("gordon_live_clients", "WebSocket clients connected to the live feed.", registry=MANAGER)
DROPS = Counter(
    "gordon_live_drops",
    "Live feed clients dropped by the server, by reason (slow consumer, ...).",
    ["reason"],
    registry=MANAGER,
)
RELEASED = Counter(
    "gordon_live_messages", "Messages the live feed released, by kind.", ["kind"], registry=MANAGER
)
REPLAYED = Counter(
    "gordon_live_replayed",
    "Messages sent to resuming clients, by source (ring or stream).",
    ["source"],
    registry=MANAGER,
)

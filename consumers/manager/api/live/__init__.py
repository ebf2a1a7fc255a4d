"""The manager's live feed: fills, order updates and breaker events fanned out over `/ws` in stream
order, with bounded per-client queues (a slow client is dropped) and resume by stream sequence."""

from consumers.manager.api.live.hub import LiveHub
from consumers.manager.api.live.message import Kind
from consumers.manager.api.live.router import live_router

__all__ = ["Kind", "LiveHub", "live_router"]

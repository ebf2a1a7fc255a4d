"""The manager's live feed: fills, order updates and breaker events fanned out over `WS /ws`.

Protocol. Each text frame is one JSON message
`{"seq": <gordon-bus stream sequence>, "kind": "fill"|"order"|"breaker", "subject": "<bus subject>",
"data": {<the event, keys in camelCase>}}`. The server sends nothing else and reads nothing.

Order. Messages come in strictly increasing `seq` across all three kinds (hence per subject too), each
once per connection; `seq` has gaps (other subjects share the stream). The three durables deliver
interleaved; the hub re-sequences them (see `sequencer`), so a message may wait for an older one of
another kind, which it takes from the stream if its durable has not delivered it yet.

Resume. Reconnect with `/ws?since=<the last seq you received>`: every message with a higher seq is
replayed (from the hub's ring of recent messages, or from the stream when older), then the live ones
follow, with no gap and no duplicate. Without `since` the feed starts at the live edge.

Close codes: 4400 bad `since` (not an integer, or ahead of the feed: reconnect without it); 4410 what
was missed is gone from the stream or over the replay limit (reload the state over REST, reconnect
without since); 4008 slow consumer (the client's bounded queue filled; reconnect with since);
1001 server shutting down; 1011 feed unavailable (NATS); 1013 no feed in this process. A handshake
whose Origin header names another site is refused (HTTP 403): no other page can read the feed.
"""

from services.manager.api.live.hub import LiveHub
from services.manager.api.live.message import Kind
from services.manager.api.live.router import live_router

__all__ = ["Kind", "LiveHub", "live_router"]

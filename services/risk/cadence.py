"""When each slower read of the risk service is due, by its injected clock (never by sleeping)."""

from __future__ import annotations


class Cadence:
    """Per name, the clock time of its next read; a name never read, or forgotten, is due at once."""

    def __init__(self) -> None:
        self._next_ms: dict[str, int] = {}

    def due(self, name: str, now_ms: int, every_ms: int) -> bool:
        """True (and the next read booked `every_ms` later) when `name` is due at `now_ms`."""
        if now_ms < self._next_ms.get(name, now_ms):
            return False
        self._next_ms[name] = now_ms + every_ms
        return True

    def forget(self, name: str) -> None:
        """Make `name` due on the next look (its window changed, so what was read no longer covers it)."""
        self._next_ms.pop(name, None)

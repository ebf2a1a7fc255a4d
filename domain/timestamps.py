"""Millisecond timestamps as the timezone-aware datetimes eventsourcing stamps on its events."""

from __future__ import annotations

from datetime import UTC, datetime


def ms_to_datetime(ts_ms: int) -> datetime:
    """UTC milliseconds since the epoch as an aware datetime (used when rebuilding, instead of the clock)."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC)

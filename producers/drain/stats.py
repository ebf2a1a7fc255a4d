"""What the drain has done, for logs, metrics and tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DrainStats:
    """Counters of one drain process (since it started)."""

    published: int = 0
    duplicates: int = 0
    batches: int = 0
    transport_failures: int = 0
    rejections: int = 0
    quarantined: int = 0
    forgotten: int = 0
    leader_terms: int = 0
    is_leader: bool = False
    fast_batches: bool = False
    """Whether the current (or last) term published fast batches rather than message by message."""
    batch_fallbacks: int = 0
    """Fast batches the server stopped short, whose rest went out once per message (which decides)."""

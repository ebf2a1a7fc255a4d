"""Drain settings, with the defaults `gordon drain` and `gordon up` run."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas import REGISTRY

LOCK_KEY = 0x676F72646F6E0001
"""`pg_try_advisory_lock` key of the drain leader ("gordon" + 1)."""

WAKE_CHANNEL = "bus_outbox_appended"
"""LISTEN channel the outbox trigger notifies, only while the drain sleeps."""


@dataclass(frozen=True)
class DrainConfig:
    """How the drain batches, waits, retries and forgets."""

    stream: str = REGISTRY.bus.name
    subjects: tuple[str, ...] = field(default=REGISTRY.bus.filters)
    batch_size: int = 1000
    flights: int = 2
    fast_batches: bool = True
    """Publish as fast-ingest batches (nats-server 2.14+, the stream's `allow_batched`) when both allow it."""
    fast_batch_size: int | None = None
    """Rows per fast batch (one fetch); unset: 4 x `batch_size`, since only one batch is in the air."""
    batch_flow: int = 250
    """A fast batch's ack cadence: the server acks every `batch_flow` messages."""
    batch_window: int = 4
    """Unacked flows a fast batch may run ahead before it waits for the server."""
    ack_timeout_s: float = 5.0
    awake_polls_s: tuple[float, ...] = (0.001, 0.002, 0.004, 0.008)
    sleep_first_s: float = 0.025
    idle_poll_s: float = 1.0
    standby_poll_s: float = 0.25
    health_every_s: float = 1.0
    health_timeout_s: float = 2.0
    retry_first_s: float = 0.1
    retry_max_s: float = 5.0
    max_rejections: int = 3
    retention_s: float = 7 * 24 * 3600.0
    retention_batch: int = 5000
    retention_every_s: float = 30.0
    keepalive_idle_s: int = 5
    keepalive_interval_s: int = 2
    keepalive_count: int = 3

    @property
    def fast_rows(self) -> int:
        """Rows per fast batch."""
        return self.fast_batch_size or 4 * self.batch_size

"""Seeded randomness and cadences shared by the generators: one RNG per (seed, source, key, time)."""

from __future__ import annotations

import random

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
EIGHT_HOURS_MS = 8 * HOUR_MS


def rng(seed: int, *key: object) -> random.Random:
    """An RNG that depends only on `seed` and `key` (never on call order), so each step is replayable."""
    return random.Random(":".join([str(seed), *(str(k) for k in key)]))


def on_cadence(end_ms: int, period_ms: int) -> bool:
    """Whether a candle ending at `end_ms` (its close time + 1) closes a `period_ms` slot (epoch-aligned)."""
    return end_ms % period_ms == 0


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))

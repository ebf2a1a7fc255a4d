"""Verify a live projection against a scratch rebuild from history, row by row, without swapping.

The scratch generation catches up to the live one exactly as a rebuild does; both tables are read at
the same sequence with the live runner held still, compared with polars, and the scratch is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import polars as pl
from nats.js import JetStreamContext

from projections import compare, generations
from projections.base import Projection
from projections.rebuild import (
    MAX_ROUNDS,
    RebuildRefused,
    Report,
    build,
    history_of,
    next_generation,
    when_aligned,
)
from projections.runner import RunnerConfig
from registry.registry import Registry
from schemas import REGISTRY


@dataclass(frozen=True)
class Verification:
    """The outcome: both generations, the sequence compared at, row counts, and every difference."""

    name: str
    live: int
    scratch: int
    seq: int
    live_rows: int
    rebuilt_rows: int
    differences: list[compare.Difference] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        head = (
            f"{self.name}: live generation {self.live} ({self.live_rows} rows) vs a rebuild from history "
            f"({self.rebuilt_rows} rows) at seq {self.seq}: "
        )
        if self.equal:
            return [head + "equal"]
        return [head + f"{len(self.differences)} row(s) differ", *(f"  {d}" for d in self.differences)]


async def verify(
    owner_dsn: str,
    projector_dsn: str,
    js: JetStreamContext,
    projection: Projection[Any, Any],
    *,
    registry: Registry = REGISTRY,
    config: RunnerConfig | None = None,
    max_rounds: int = MAX_ROUNDS,
    progress: Report | None = None,
) -> Verification:
    """Rebuild into a scratch generation, compare it with the live one at one sequence, drop it;
    `progress` follows the scratch fold through the history stream."""
    await history_of(js, registry, projection)
    owner = await asyncpg.connect(owner_dsn)
    try:
        live = await generations.live_generation(owner, projection)
        if live is None or not await generations.exists(owner, generations.schema_of(projection, live)):
            raise RebuildRefused(
                f"nothing to verify: {projection.name} has no live generation tables "
                f"(gordon projections rebuild {projection.name} restores them)"
            )
        scratch = await next_generation(owner, projection)
        await generations.create(owner, projection, scratch)
        try:

            async def catch_up(seq: int) -> None:
                await build(projector_dsn, js, registry, projection, scratch, seq, config, progress)

            async def read_both(seq: int) -> tuple[int, pl.DataFrame, pl.DataFrame]:
                return (
                    seq,
                    await compare.load_frame(owner, generations.schema_of(projection, live), projection),
                    await compare.load_frame(owner, generations.schema_of(projection, scratch), projection),
                )

            (seq, live_frame, rebuilt_frame), _ = await when_aligned(
                owner, catch_up, projection, live, scratch, read_both, max_rounds
            )
        finally:
            await generations.drop(owner, projection, scratch)
    finally:
        await owner.close()
    found = compare.differences(live_frame, rebuilt_frame, compare.key_columns(projection))
    return Verification(projection.name, live, scratch, seq, live_frame.height, rebuilt_frame.height, found)

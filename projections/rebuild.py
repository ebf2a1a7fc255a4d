"""Rebuild a projection beside its live generation, check it equal at one sequence, and swap it in.

Generation n+1 is filled from the history stream by a fixed-generation runner while the live runner
keeps going; they are compared at the same stream sequence with the live one held still, then the
views and the registry row move to n+1 and n is dropped, all in one transaction. When the live
generation's tables are gone there is nothing to compare: the history alone rebuilds them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from projections import compare, generations, tracking
from projections.base import Projection
from projections.runner import ProjectionHalted, Runner, RunnerConfig
from registry.registry import Registry
from schemas import REGISTRY

T = TypeVar("T")

MAX_ROUNDS = 50
LOCK_TIMEOUT_MS = 10_000


class RebuildRefused(Exception):
    """The rebuild cannot (or must not) happen; str() is one line saying why."""


class NotAligned(Exception):
    """Both generations were not at the same sequence under the lock: catch up and try again."""


@dataclass(frozen=True)
class History:
    stream: str
    first_seq: int
    last_seq: int


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did: the generations, the sequence they were equal at, and how long it took."""

    name: str
    old: int | None
    new: int
    seq: int
    rows: int
    rounds: int
    compared: bool
    seconds: float

    def __str__(self) -> str:
        how = "checked equal to" if self.compared else "restored without"
        was = f"generation {self.old}" if self.compared else "a live generation to compare"
        return (
            f"rebuilt {self.name}: generation {self.new} ({self.rows} rows at seq {self.seq}) {how} {was}, "
            f"swapped in after {self.rounds} round(s) in {self.seconds:.2f}s"
        )


async def history_of(js: JetStreamContext, registry: Registry, projection: Projection[Any, Any]) -> History:
    """The history stream's bounds; refuses when events the projection needs are on no stream."""
    name = registry.history.name
    try:
        state = (await js.stream_info(name)).state
    except NotFoundError:
        raise RebuildRefused(
            f"cannot rebuild {projection.name}: stream {name} does not exist, so no stream holds the "
            f"history of {projection.subject.template_text}"
        ) from None
    if state.first_seq > 1:
        raise RebuildRefused(
            f"cannot rebuild {projection.name}: {name} starts at seq {state.first_seq}, events 1.."
            f"{state.first_seq - 1} have fallen off and no stream holds them"
        )
    if state.num_deleted:
        raise RebuildRefused(
            f"cannot rebuild {projection.name}: {name} has {state.num_deleted} deleted message(s) "
            f"between seq {state.first_seq} and {state.last_seq}; that history is gone"
        )
    return History(name, state.first_seq, state.last_seq)


Report = Callable[[int, int | None], None]
"""`report(done, total)`: the history sequence a rebuild has folded up to, of the one it goes to."""
REPORT_EVERY_S = 0.2


async def build(
    projector_dsn: str,
    js: JetStreamContext,
    registry: Registry,
    projection: Projection[Any, Any],
    generation: int,
    until_seq: int,
    config: RunnerConfig | None = None,
    progress: Report | None = None,
) -> None:
    """Fold generation `generation` (fixed, not live) up to `until_seq`, as the runner role, telling
    `progress` how far it is every fraction of a second."""
    runner = Runner(projection, projector_dsn, js, registry, config, generation=generation)
    watching = asyncio.create_task(_watch(runner, until_seq, progress)) if progress else None
    try:
        await runner.run(asyncio.Event(), until_seq=until_seq)
    except ProjectionHalted as halted:
        raise RebuildRefused(
            f"rebuild of {projection.name} halted at seq {halted.seq}: {halted.reason}"
        ) from None
    finally:
        if watching is not None:
            watching.cancel()
    if progress is not None:
        progress(until_seq, until_seq)


async def _watch(runner: Runner[Any, Any], until_seq: int, progress: Report) -> None:
    while True:
        progress(min(runner.stats.processed_seq, until_seq), until_seq)
        await asyncio.sleep(REPORT_EVERY_S)


async def next_generation(conn: asyncpg.Connection, projection: Projection[Any, Any]) -> int:
    """One above every generation recorded or still present as a schema."""
    live = await generations.live_generation(conn, projection) or 0
    prefix = f"proj_{projection.name}_"
    names = await conn.fetch("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", prefix)
    present = [int(n[0][len(prefix) :]) for n in names if n[0][len(prefix) :].isdigit()]
    return max([live, *present]) + 1


async def when_aligned(
    owner: asyncpg.Connection,
    catch_up: Callable[[int], Awaitable[None]],
    projection: Projection[Any, Any],
    live: int,
    other: int,
    body: Callable[[int], Awaitable[T]],
    max_rounds: int = MAX_ROUNDS,
) -> tuple[T, int]:
    """Catch generation `other` up to the live one, then run `body(seq)` in one owner transaction in
    which both have consumed exactly `seq`, none buffers an event, and the live runner is held still.
    The bulk is caught up unlocked; the few events the live runner folded meanwhile are caught up
    under the lock (under steady writes, chasing it unlocked never meets it).

    The runner reads `trading.projections` before each batch, so an ACCESS EXCLUSIVE lock on it makes
    that read wait (a row lock would not: plain reads do not wait for row locks); an EXCLUSIVE lock on
    the live tables waits for a batch already in flight and leaves readers of the view alone.
    Returns `body`'s result and the number of rounds it took.
    """
    live_schema = generations.schema_of(projection, live)
    other_schema = generations.schema_of(projection, other)
    for rounds in range(1, max_rounds + 1):
        await catch_up((await tracking.read(owner, live_schema)).processed_seq)
        try:
            async with owner.transaction():
                await owner.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
                await owner.execute("LOCK TABLE trading.projections IN ACCESS EXCLUSIVE MODE")
                if await generations.live_generation(owner, projection) != live:
                    raise RebuildRefused(
                        f"{projection.name}: the live generation changed from {live} during the rebuild"
                    )
                tables = await owner.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = $1", live_schema
                )
                names = ", ".join(f"{live_schema}.{t[0]}" for t in tables)
                await owner.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
                a = await tracking.read(owner, live_schema)
                if a.last_seq != a.processed_seq:
                    raise NotAligned  # the live runner holds an early event: let it go on
                await catch_up(a.processed_seq)  # what the live runner did meanwhile, held still now
                b = await tracking.read(owner, other_schema)
                if a.processed_seq != b.processed_seq or b.last_seq != b.processed_seq:
                    raise NotAligned
                return await body(a.processed_seq), rounds
        except NotAligned:
            await asyncio.sleep(min(0.01 * rounds, 0.2))
        except asyncpg.LockNotAvailableError:
            continue
    raise RebuildRefused(
        f"{projection.name}: the live generation kept moving; not aligned after {max_rounds} rounds"
    )


async def rebuild(
    owner_dsn: str,
    projector_dsn: str,
    js: JetStreamContext,
    projection: Projection[Any, Any],
    *,
    registry: Registry = REGISTRY,
    config: RunnerConfig | None = None,
    max_rounds: int = MAX_ROUNDS,
    progress: Report | None = None,
) -> Rebuilt:
    """Rebuild `projection` into a new generation and swap it in (see the module docstring);
    `progress` follows the fold through the history stream."""
    started = time.monotonic()
    history = await history_of(js, registry, projection)
    owner = await asyncpg.connect(owner_dsn)
    try:
        live = await generations.live_generation(owner, projection)
        new = await next_generation(owner, projection)
        await generations.create(owner, projection, new)
        try:
            if live is None or not await generations.exists(owner, generations.schema_of(projection, live)):
                await build(projector_dsn, js, registry, projection, new, history.last_seq, config, progress)
                seq, rows = await _restore(owner, projection, live, new)
                return Rebuilt(projection.name, live, new, seq, rows, 1, False, time.monotonic() - started)

            async def catch_up(seq: int) -> None:
                await build(projector_dsn, js, registry, projection, new, seq, config, progress)

            async def swap(seq: int) -> tuple[int, int]:
                return seq, await _compare_and_swap(owner, projection, live, new, seq)

            (seq, rows), rounds = await when_aligned(owner, catch_up, projection, live, new, swap, max_rounds)
            return Rebuilt(projection.name, live, new, seq, rows, rounds, True, time.monotonic() - started)
        except BaseException:
            await generations.drop(owner, projection, new)
            raise
    finally:
        await owner.close()


async def _compare_and_swap(
    owner: asyncpg.Connection, projection: Projection[Any, Any], live: int, new: int, seq: int
) -> int:
    """Inside the aligned transaction: refuse unless the tables are equal, else swap and drop `live`."""
    live_schema = generations.schema_of(projection, live)
    new_schema = generations.schema_of(projection, new)
    if await compare.table_hash(owner, live_schema, projection) != await compare.table_hash(
        owner, new_schema, projection
    ):
        count, keys = await compare.differing_keys(owner, live_schema, new_schema, projection)
        raise RebuildRefused(
            f"rebuild of {projection.name} differs from live generation {live} at seq {seq}: "
            f"{count} key(s) differ ({', '.join(keys)}{', ...' if count > len(keys) else ''}); "
            "the live generation stays"
        )
    rows = int(await owner.fetchval(f"SELECT count(*) FROM {new_schema}.{projection.view}"))
    await generations.point_views(owner, projection, new)
    await generations.drop(owner, projection, live)
    return rows


async def _restore(
    owner: asyncpg.Connection, projection: Projection[Any, Any], live: int | None, new: int
) -> tuple[int, int]:
    """Swap in a generation rebuilt from history alone (the live one's tables are gone)."""
    new_schema = generations.schema_of(projection, new)
    async with owner.transaction():
        await owner.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
        await owner.execute("LOCK TABLE trading.projections IN ACCESS EXCLUSIVE MODE")
        if await generations.live_generation(owner, projection) != live:
            raise RebuildRefused(f"{projection.name}: the live generation changed during the rebuild")
        state = await tracking.read(owner, new_schema)
        rows = int(await owner.fetchval(f"SELECT count(*) FROM {new_schema}.{projection.view}"))
        await generations.point_views(owner, projection, new)
        if live is not None:
            await generations.drop(owner, projection, live)
    return state.processed_seq, rows

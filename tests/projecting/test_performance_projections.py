"""The roundtrips, equity points and performance snapshots folded from the fills on the stream equal the
pure folds over the same fills; a fill ahead of its predecessor waits for it; a re-sent fill is skipped;
a verify agrees and a rebuild from history restores every row identical to the live ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from nats.aio.client import Client as NatsClient

from domain.performance import EquityPoint, Ledger, apply_ledger
from domain.roundtrips import Roundtrip, TripBook, apply_trip
from projections.catalog import PROJECTIONS
from projections.equity import TABLE as POINTS
from projections.performance import TABLE as SNAPSHOTS
from projections.rebuild import rebuild
from projections.roundtrips import TABLE as TRIPS
from projections.runner import RunnerConfig
from projections.verify import verify
from schemas.common import bot_token
from schemas.trading import Fill
from tests.projecting.helpers import (
    FAST,
    fills,
    fresh_id,
    history_has,
    publish,
    rows,
    run_until_caught_up,
    start,
)

NAMES = ("roundtrips", "equity_points", "performance_snapshots")
SMALL = RunnerConfig(batch_size=7, gap_timeout_s=5.0)
"""Live batches of 7 events: the books are stored and loaded again mid-roundtrip, often."""


def expected(events: list[Fill]) -> tuple[list[Roundtrip], list[EquityPoint], list[Any]]:
    """The pure folds over `events` in order: roundtrips, equity points, and each bot's performance."""
    books: dict[tuple[UUID, str], TripBook] = {}
    ledgers: dict[UUID, Ledger] = {}
    trips, points = [], []
    for f in events:
        books[(f.bot_id, f.symbol)], trip = apply_trip(books.get((f.bot_id, f.symbol)), f)
        ledgers[f.bot_id], point = apply_ledger(ledgers.get(f.bot_id), f)
        trips += [trip] if trip else []
        points += [point] if point else []
    performance = [ledger.performance for ledger in ledgers.values() if ledger.performance]
    return trips, points, performance


def by_key(state: Any) -> tuple[str, ...]:
    """A sort key of any of the three states: its bot, then its symbol and number or its point."""
    return tuple(str(getattr(state, k)) for k in ("bot_id", "symbol", "number", "point") if hasattr(state, k))


async def test_rebuild_restores_roundtrips_equity_and_performance_identical_to_live(
    database: str,
    dsn_for: Callable[[str, str], str],
    nats: NatsClient,
    fresh_bus: Callable[[], Awaitable[None]],
) -> None:
    await fresh_bus()
    for name in NAMES:
        projector = await start(database, dsn_for, name)
    js = nats.jetstream()
    events = fills(23, 300)
    # two adjacent fills of one position published out of order: the later waits for the earlier
    i = next(
        i
        for i in range(len(events) - 1)
        if events[i].symbol == events[i + 1].symbol and events[i].bot_id == events[i + 1].bot_id
    )
    sent = [*events[:i], events[i + 1], events[i], *events[i + 2 :]]
    for f in sent:
        await publish(js, f"trading.fills.{bot_token(f.bot_id)}", f)
    for f in events[:10]:  # re-sent with new sequences: duplicates to skip
        await publish(js, f"trading.fills.{bot_token(f.bot_id)}", f, msg_id=fresh_id())
    await history_has(js, 310)

    for name in NAMES:
        stats = await run_until_caught_up(PROJECTIONS[name], projector, js, SMALL)
        assert (stats.applied, stats.duplicates, stats.buffered) == (300, 10, 1), name

    trips, points, performance = expected(events)
    assert len(trips) > 10, "the walk closes many roundtrips"
    assert {p.bot_id for p in performance} == {f.bot_id for f in events}
    tables = {
        "roundtrips": (TRIPS, trips),
        "equity_points": (POINTS, points),
        "performance_snapshots": (SNAPSHOTS, performance),
    }
    live = {}
    for name, (table, want) in tables.items():
        got = await rows(database, f"SELECT * FROM trading.{name} ORDER BY {PROJECTIONS[name].order_by}")
        assert sorted((table.state(r) for r in got), key=by_key) == sorted(want, key=by_key), name
        live[name] = got

    for name in NAMES:
        checked = await verify(database, projector, js, PROJECTIONS[name], config=FAST)
        assert checked.equal, checked.lines()
        done = await rebuild(database, projector, js, PROJECTIONS[name], config=FAST)
        assert done.compared
        assert done.rows == len(tables[name][1])
        again = await rows(database, f"SELECT * FROM trading.{name} ORDER BY {PROJECTIONS[name].order_by}")
        assert again == live[name], name

    # with its tables gone, the history alone restores them
    for name in NAMES:
        await rows(database, f"DROP SCHEMA proj_{name}_2 CASCADE")
        done = await rebuild(database, projector, js, PROJECTIONS[name], config=FAST)
        assert not done.compared
        again = await rows(database, f"SELECT * FROM trading.{name} ORDER BY {PROJECTIONS[name].order_by}")
        assert again == live[name], name

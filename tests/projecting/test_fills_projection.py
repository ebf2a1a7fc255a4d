"""The fills read model folded from the stream: one row per fill, each with the position it left equal to
the in-memory average-cost fold; a re-sent fill is skipped; a verify and a rebuild agree with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from nats.aio.client import Client as NatsClient

from domain.positions import PositionState, apply_fill
from projections.catalog import PROJECTIONS
from projections.rebuild import rebuild
from projections.verify import verify
from schemas.common import bot_token
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

FILLS = PROJECTIONS["fills"]


async def test_each_fill_is_a_row_with_the_position_it_left(
    database: str,
    dsn_for: Callable[[str, str], str],
    nats: NatsClient,
    fresh_bus: Callable[[], Awaitable[None]],
) -> None:
    await fresh_bus()
    projector = await start(database, dsn_for, "fills")
    js = nats.jetstream()
    events = fills(11, 200)
    for fill in events:
        await publish(js, f"trading.fills.{bot_token(fill.bot_id)}", fill)
    for fill in events[:15]:  # re-sent with new sequences (after the dedup window, say)
        await publish(js, f"trading.fills.{bot_token(fill.bot_id)}", fill, msg_id=fresh_id())
    await history_has(js, 215)

    stats = await run_until_caught_up(FILLS, projector, js)

    assert (stats.applied, stats.duplicates) == (200, 15)
    positions: dict[Any, PositionState] = {}
    expected = {}
    for fill in events:
        key = (fill.bot_id, fill.symbol)
        after = positions[key] = apply_fill(positions.get(key), fill)
        expected[fill.fill_id] = (
            fill.event_id,
            fill.qty,
            Decimal(str(fill.price)),
            after.qty,
            after.avg_entry_price,
            after.realized_pnl,
            after.fees,
        )
    got = await rows(database, "SELECT * FROM trading.fills")
    assert {
        r["fill_id"]: (
            r["event_id"],
            r["qty"],
            Decimal(str(r["price"])),
            r["position_qty"],
            r["avg_entry_price"],
            r["realized_pnl"],
            r["fees"],
        )
        for r in got
    } == expected
    assert any(v[5] != 0 for v in expected.values()), "the walk realizes some PnL"

    seen: list[tuple[int, int | None]] = []
    checked = await verify(database, projector, js, FILLS, config=FAST, progress=lambda *p: seen.append(p))
    assert checked.equal
    assert checked.live_rows == 200
    assert seen[-1] == (215, 215), "the scratch fold reports how far it is through the history"
    seen.clear()
    done = await rebuild(database, projector, js, FILLS, config=FAST, progress=lambda *p: seen.append(p))
    assert done.rows == 200
    assert seen[-1] == (215, 215)
    assert all(done_seq <= total for done_seq, total in seen if total is not None)
    assert await rows(database, "SELECT * FROM trading.fills ORDER BY fill_id") == sorted(
        got, key=lambda r: r["fill_id"]
    )

"""Chaos: N events through the outbox while the drain, a consumer, the projection runners and
nats-server are SIGKILLed and Postgres is stopped in immediate mode, at random (seeded) moments, each
restarted. At the end every committed row is on the bus exactly once, the consumer did each effect
once, and every projection equals a rebuild from history.

The seed is printed; rerun one with GORDON_CHAOS_SEED=<seed>.
Loopback only, private servers.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient

from gordon.migrate import upgrade
from gordon.platform import prepare_projections
from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.ports import stable_port
from gordon.runtime.postgres_server import EmbeddedPostgres
from producers.drain.runner import connect_nats
from projections import generations, tracking
from projections.catalog import PROJECTIONS
from projections.verify import verify
from registry.streams import ensure_streams
from schemas import REGISTRY
from settings import roles
from settings.dsn import with_user
from tests.chaos.consumer_proc import TABLES
from tests.chaos.harness import converge, fault_plan, log_tails, run_plan
from tests.chaos.victims import Child, Victims
from tests.cluster.load import (
    Load,
    copies_by_msg_id,
    exactly_once,
    order_pairs,
    outbox_event_ids,
    write_at_rate,
)
from tests.conftest import small_spec

pytestmark = [pytest.mark.slow]

ORDER_COUNT = 1500  # two events each: 3000 events
RATE = 150.0  # events per second: a 20 s load
KINDS = ("drain", "consumer", "projector", "nats", "postgres")
FAULTS = 12  # each kind at least once, the rest at random
CONVERGE_S = 120.0


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[EmbeddedPostgres, EmbeddedNats]]:
    """A private Postgres (this test crashes it) and nats-server with its store on disk."""
    pg = EmbeddedPostgres(tmp_path / "pg", port=stable_port(), fsync=False)
    with pg, EmbeddedNats(tmp_path / "nats", port=stable_port()) as server:
        yield pg, server


@pytest.mark.timeout(300)
async def test_nothing_lost_or_doubled_under_random_kills(
    seed: int, servers: tuple[EmbeddedPostgres, EmbeddedNats], tmp_path: Path
) -> None:
    rng = random.Random(seed)
    pg, server = servers
    dsn = pg.dsn()
    upgrade(dsn)
    client = await connect_nats(server.url, "chaos-test")
    js = client.jetstream()
    await ensure_streams(js, [small_spec(s) for s in REGISTRY.streams])
    await prepare_projections(dsn)
    conn = await asyncpg.connect(dsn)
    for statement in TABLES:
        await conn.execute(statement)
    await conn.close()

    env = {"GORDON_NATS_URL": server.url}
    children = {
        "drain": Child(
            "drain",
            "gordon",
            ["drain", "--batch-size", "200"],
            env | {"GORDON_DATABASE_URL": with_user(dsn, roles.DRAIN)},
            tmp_path / "drain.log",
        ),
        "consumer": Child(
            "consumer",
            "tests.chaos.consumer_proc",
            [],
            env | {"GORDON_DATABASE_URL": dsn},
            tmp_path / "consumer.log",
        ),
        "projector": Child(
            "projector",
            "tests.chaos.projector_proc",
            [],
            env | {"GORDON_DATABASE_URL": dsn},
            tmp_path / "projector.log",
        ),
    }
    victims = Victims(children, server, pg)

    events = order_pairs(ORDER_COUNT)
    duration = len(events) / RATE
    plan = fault_plan(rng, duration, KINDS, FAULTS)
    print("plan: " + ", ".join(f"{at:.1f}s {kind}" for at, kind in plan))
    load = Load()
    began = time.monotonic()
    for child in children.values():
        child.start()
    try:
        writing = asyncio.create_task(write_at_rate(dsn, events, RATE, load))
        await run_plan(plan, victims, rng, began)
        await writing
        chaos_s = time.monotonic() - began

        behind = await converge(lambda: _behind(dsn, client, len(events)), victims.supervise, CONVERGE_S)
        settle_s = time.monotonic() - began - chaos_s
    except Exception as exc:
        raise AssertionError(f"seed {seed}: {type(exc).__name__}: {exc}\n{log_tails(tmp_path)}") from exc
    finally:
        codes = victims.stop()
    assert behind is None, f"seed {seed}: not settled after the chaos: {behind}\n{log_tails(tmp_path)}"

    committed = await outbox_event_ids(dsn)
    missing, duplicated = exactly_once(committed, await copies_by_msg_id(js, REGISTRY.bus.name))
    conn = await asyncpg.connect(dsn)
    try:
        effects = Counter(str(r[0]) for r in await conn.fetch("SELECT event_id FROM chaos.effects"))
        suppressed = await conn.fetchval("SELECT count(*) FROM chaos.seen WHERE NOT fresh")
        redelivered = await conn.fetchval("SELECT count(*) FROM chaos.seen WHERE deliveries > 1")
        forgotten = await conn.fetchval("SELECT count(*) FROM chaos.seen WHERE NOT fresh AND deliveries = 1")
        unpublished = await conn.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL")
        quarantined = await conn.fetchval(
            "SELECT count(*) FROM bus.outbox WHERE quarantined_at_ms IS NOT NULL"
        )
    finally:
        await conn.close()
    projector = with_user(dsn, roles.PROJECTOR)
    checks = [await verify(dsn, projector, js, projection) for projection in PROJECTIONS.values()]
    await client.close()

    kills = victims.kills(KINDS)
    exits = victims.exits()
    print(
        f"chaos seed {seed}: {len(committed)} events in {chaos_s:.1f}s of chaos + {settle_s:.1f}s to settle; "
        f"kills {kills}; exited on their own and restarted {exits or 'none'}; writer commit retries "
        f"{load.failed_commits}; consumer redeliveries {redelivered}, duplicates suppressed by the inbox "
        f"{suppressed} (of which re-sent as first deliveries after a nats-server restart: {forgotten}); "
        f"stream duplicates {len(duplicated)}, missing {len(missing)}; "
        f"projections {', '.join(f'{c.name} {c.live_rows} rows equal={c.equal}' for c in checks)}; "
        f"exit codes on SIGTERM {codes}"
    )
    assert sorted(load.committed) == sorted(committed)
    assert len(committed) == len(events)
    assert (missing, duplicated) == ([], []), f"seed {seed}: the bus must hold each committed event once"
    assert (unpublished, quarantined) == (0, 0)
    assert sorted(effects) == sorted(committed), f"seed {seed}: the consumer must see each event"
    assert max(effects.values()) == 1, f"seed {seed}: an effect ran twice"
    assert not exits, f"seed {seed}: every part rides through server restarts by itself: {exits}"
    for check in checks:
        assert check.equal, "\n".join(check.lines())
    assert next(c for c in checks if c.name == "orders").live_rows == ORDER_COUNT


async def _behind(dsn: str, client: NatsClient, count: int) -> str:
    """What has not happened yet for `count` events ("" when everything has)."""
    history = (await client.jetstream().stream_info(REGISTRY.history.name)).state
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        unpublished = await conn.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL")
        effects = await conn.fetchval("SELECT count(*) FROM chaos.effects")
        orders = PROJECTIONS["orders"]
        live = await generations.live_generation(conn, orders)
        assert live is not None
        state = await tracking.read(conn, generations.schema_of(orders, live))
    finally:
        await conn.close()
    missing = {
        "unpublished outbox rows": unpublished,
        "events not in history": count - history.messages,
        "effects not done": count - effects,
        "history seqs not folded": history.last_seq - state.last_seq,
    }
    return ", ".join(f"{what} {n}" for what, n in missing.items() if n > 0)

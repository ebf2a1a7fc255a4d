"""Chaos on the services as they run in production: the five services as separate processes
(`faststream run services.<name>:app`), the outbox drain (`gordon drain`) and the projection runners
(what `gordon up` runs), each logged in to a nats-server run with the generated authorization as its own
user. Demo-shaped load: the data feed at the demo's speed and history, the two demo bots trading on it,
and an operator flattening and resuming through the manager process's own HTTP API. At seeded random
moments each process, nats-server and Postgres (immediate-mode stop) is hit and restarted; a process that
exits on its own is restarted too, as a service manager would.

At the end, once everything has settled: no intent placed twice, every risk command and operator request
applied once, every outbox row on the bus once, no gap in any aggregate's versions, every projection equal
to a rebuild and to the write side, and nothing in the dead-letter stream (no good event dead-lettered).
The seed is printed; rerun one with GORDON_CHAOS_SEED=<seed>. Loopback only, private servers.
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
import requests
from nats.js import JetStreamContext

from consumers.dlq_tools import read_letters
from gordon import nats_auth
from gordon.migrate import upgrade
from gordon.platform import prepare_projections
from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.ports import HOST, stable_port
from gordon.runtime.postgres_server import EmbeddedPostgres
from gordon.services import DEMO_BACKFILL_MINUTES, DEMO_BOTS, DEMO_SPEED, NAMES, seed_demo_bots
from producers.drain.runner import connect_nats
from projections.catalog import PROJECTIONS
from projections.status import status
from projections.verify import verify
from registry.streams import ensure_streams
from schemas import REGISTRY
from services.data.service import BACKFILL, SPEED, START_MS
from services.http_server import url_of
from settings import nats_login, roles
from settings.dsn import with_user
from settings.environment import DATABASE_URL, MANAGER_PORT, MANAGER_TOKEN, NATS_URL, port_variable
from tests.chaos import service_checks as checks
from tests.chaos.harness import converge, fault_plan, log_tails, run_plan
from tests.chaos.victims import Child, Victims
from tests.cluster.load import copies_by_msg_id, exactly_once, outbox_event_ids
from tests.conftest import small_spec
from tests.projecting.helpers import history_caught_up
from tests.services.platform_harness import durables_settled, projections_match

pytestmark = [pytest.mark.slow]

KINDS = ("drain", "projector", *NAMES, "nats", "postgres")
FAULTS = 15  # each kind at least once, the rest at random
CHAOS_S = 60.0
OPERATOR = ("flatten", "resume", "flatten", "resume")
DURABLES = sum(1 for s in REGISTRY for c in s.consumers if not c.instance) + len(DEMO_BOTS)
"""The services' durables (the bot's one per bot): all bound means every service is up."""
CONVERGE_S = 90.0
TOKEN = "chaos-operator-token-0123456789"
PORTS = {port_variable(name): "0" for name in NAMES}
"""Each service's own /healthz and /metrics port, any free one (the manager's API gets a fixed one)."""
DAY_MS = 86_400_000


@pytest.fixture
def servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[EmbeddedPostgres, EmbeddedNats]]:
    """A private Postgres (this test crashes it) and a nats-server with its store on disk and the
    generated authorization; every user's password is in the environment, as `gordon up` sets them."""
    for user in nats_login.USERS:
        monkeypatch.setenv(nats_login.password_env(user), nats_login.new_password())
    config = tmp_path / "nats-auth.conf"
    config.write_text(nats_auth.render(REGISTRY))
    pg = EmbeddedPostgres(tmp_path / "pg", port=stable_port(), fsync=False)
    with pg, EmbeddedNats(tmp_path / "nats", port=stable_port(), config=config) as server:
        yield pg, server


def platform(tmp_path: Path, nats_url: str, dsn: str, api_port: int) -> dict[str, Child]:
    """The processes: the drain (as gordon_drain), the projection runners and the five services (as the
    schema owner's URL, from which each derives its own role); the manager serves its API on `api_port`
    (the same after every restart) with the operator's token."""
    env = {NATS_URL: nats_url, DATABASE_URL: dsn, **PORTS}
    began_wall = time.time_ns() // 1_000_000
    origin = began_wall - 2 * DAY_MS  # as `gordon up --demo`: two days back

    def feed() -> dict[str, str]:
        # Simulated time continues across restarts as one uninterrupted feed's would.
        now = time.time_ns() // 1_000_000
        return {START_MS: str(int(origin + (now - began_wall) * DEMO_SPEED))}

    children = {
        "drain": Child(
            "drain",
            "gordon",
            ["drain"],
            env | {DATABASE_URL: with_user(dsn, roles.DRAIN)},
            tmp_path / "drain.log",
        ),
        "projector": Child("projector", "tests.chaos.projector_proc", [], env, tmp_path / "projector.log"),
    }
    demo = {SPEED: str(DEMO_SPEED), BACKFILL: str(DEMO_BACKFILL_MINUTES)}
    api = {MANAGER_PORT: str(api_port), MANAGER_TOKEN: TOKEN}
    for name in NAMES:
        children[name] = Child(
            name,
            "faststream",
            ["run", f"services.{name}:app"],
            env | (demo if name == "data" else {}) | (api if name == "manager" else {}),
            tmp_path / f"{name}.log",
            fresh=feed if name == "data" else None,
        )
    return children


async def operate(api: str, rng: random.Random, began: float, asked: Counter[str]) -> None:
    """An operator at `api` (the manager's URL): at seeded moments of the chaos, flatten, then resume once
    the latch is halted, and so on; a request refused or unanswered (the manager or its database
    restarting, the latch not halted yet) is asked again."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    moments = sorted(rng.uniform(0.1, 0.9) * CHAOS_S for _ in OPERATOR)
    for at, action in zip(moments, OPERATOR, strict=True):
        await asyncio.sleep(max(0.0, began + at - time.monotonic()))
        deadline = time.monotonic() + 20.0
        while time.monotonic() < deadline:
            body = {"reason": f"chaos {action} at {at:.1f}s", "actor": "chaos-operator"}
            try:
                reply = await asyncio.to_thread(session.post, f"{api}/risk/{action}", json=body, timeout=10)
            except requests.RequestException:
                reply = None
            if reply is not None and reply.status_code == 202:
                asked[action] += 1
                break
            asked[f"{action} retried ({reply.status_code if reply is not None else 'no answer'})"] += 1
            await asyncio.sleep(0.5)


class Settling:
    """Whether everything has settled: `await settling.behind()` is "" once nothing is left to do (outbox
    rows, the history's sourcing, durables, intents, projections) and nothing moved (outbox rows, bus
    messages) since the previous look, so no effect of a handler that just acked is still on its way."""

    def __init__(self, dsn: str, js: JetStreamContext) -> None:
        self.dsn, self.js = dsn, js
        self.last: tuple[int, int] | None = None

    async def behind(self) -> str:
        conn = await asyncpg.connect(self.dsn, timeout=5)
        try:
            rows = await conn.fetchval("SELECT count(*) FROM bus.outbox")
            unpublished = await conn.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL")
            undecided = len(await conn.fetch(checks.UNDECIDED))
            projections = await status(conn, self.js, REGISTRY, PROJECTIONS.values())
        finally:
            await conn.close()
        moved, self.last = self.last, (rows, (await self.js.stream_info(REGISTRY.bus.name)).state.last_seq)
        left = [f"{unpublished} unpublished outbox rows"] if unpublished else []
        left += [f"{undecided} intents undecided"] if undecided else []
        left += [
            f"{p.name} pending {p.pending}" for p in projections if p.pending or p.last_seq != p.processed_seq
        ]
        left += [f"{p.name} halted at {p.halted_seq}: {p.halted_reason}" for p in projections if p.halted_seq]
        if not await durables_settled(self.js):
            left.append("a durable has pending or unacknowledged messages")
        try:
            await history_caught_up(self.js, timeout_s=0.0)
        except AssertionError as exc:
            left.append(str(exc))
        if moved != self.last:
            left.append("outbox or bus still moving")
        return ", ".join(left)


@pytest.mark.timeout(330)
async def test_services_lose_and_double_nothing_under_random_kills(
    seed: int, servers: tuple[EmbeddedPostgres, EmbeddedNats], tmp_path: Path
) -> None:
    rng = random.Random(seed)
    started = time.monotonic()
    pg, server = servers
    dsn = pg.dsn()
    upgrade(dsn)
    client = await connect_nats(server.url, "chaos-test", nats_login.ADMIN)
    js = client.jetstream()
    await ensure_streams(js, [small_spec(s) for s in REGISTRY.streams])
    await prepare_projections(dsn)
    assert await seed_demo_bots(dsn) == 2
    api_port = stable_port()
    children = platform(tmp_path, server.url, dsn, api_port)
    victims = Victims(children, server, pg)
    asked: Counter[str] = Counter()

    plan = fault_plan(rng, CHAOS_S, KINDS, FAULTS)
    print("plan: " + ", ".join(f"{at:.1f}s {kind}" for at, kind in plan))
    began = time.monotonic()
    for child in children.values():
        child.start()
    try:
        while len(await js.consumers_info(REGISTRY.bus.name)) < DURABLES:  # every service is up
            assert time.monotonic() - began < 60, f"the durables were not all bound\n{log_tails(tmp_path)}"
            victims.supervise()
            await asyncio.sleep(0.2)
        up_s = time.monotonic() - began
        chaos_began = time.monotonic()
        operator = asyncio.create_task(operate(url_of(HOST, api_port), rng, chaos_began, asked))
        await run_plan(plan, victims, rng, chaos_began)
        await operator
        feed_code = victims.retire("data")  # the load ends: the feed stops between transactions
        chaos_s = time.monotonic() - chaos_began
        left = await converge(Settling(dsn, js).behind, victims.supervise, CONVERGE_S)
        settle_s = time.monotonic() - chaos_began - chaos_s
    except Exception as exc:
        raise AssertionError(f"seed {seed}: {type(exc).__name__}: {exc}\n{log_tails(tmp_path)}") from exc
    finally:
        codes = victims.stop()
    assert left is None, f"seed {seed}: not settled after the chaos: {left}\n{log_tails(tmp_path)}"

    tally = checks.Tally()
    conn = await asyncpg.connect(dsn)
    try:
        wrong = {
            "intents placed once": await checks.intents_placed_once(conn, tally),
            "risk commands applied once": await checks.commands_applied_once(conn, tally),
            "operator requests applied once": await checks.requests_applied_once(conn, tally),
            "no version gaps": await checks.versions_gapless(conn),
        }
        read_models_match = await projections_match(conn)
        unpublished = await conn.fetchval(
            "SELECT count(*) FROM bus.outbox WHERE published_at_ms IS NULL OR quarantined_at_ms IS NOT NULL"
        )
        tally.counts["klines"] = await conn.fetchval("SELECT count(*) FROM market_data.spot_klines")
    finally:
        await conn.close()
    committed = await outbox_event_ids(dsn)
    missing, duplicated = exactly_once(committed, await copies_by_msg_id(js, REGISTRY.bus.name))
    tally.counts["outbox rows"] = len(committed)
    verified = [await verify(dsn, with_user(dsn, roles.PROJECTOR), js, p) for p in PROJECTIONS.values()]
    letters = await read_letters(js, REGISTRY.dead_letters.name)
    await client.close()

    kills, exits = victims.kills(KINDS), victims.exits()
    print(
        f"service chaos seed {seed}: up in {up_s:.1f}s, {chaos_s:.1f}s of chaos, settled in {settle_s:.1f}s; "
        f"kills {kills}; exited on their own and restarted {exits or 'none'}; operator {dict(asked)}; "
        f"{tally.line()}; bus duplicates {len(duplicated)}, missing {len(missing)}; "
        f"projections {', '.join(f'{v.name} {v.live_rows} rows equal={v.equal}' for v in verified)}; "
        f"dead letters {len(letters)}; exit codes on SIGTERM {codes}, data feed {feed_code}; "
        f"{time.monotonic() - started:.1f}s in all"
    )
    problems = {check: found for check, found in wrong.items() if found}
    assert not problems, f"seed {seed}: {problems}"
    assert (missing, duplicated, unpublished) == ([], [], 0), f"seed {seed}: every outbox row on the bus once"
    for check in verified:
        assert check.equal, f"seed {seed}: " + "\n".join(check.lines())
    assert read_models_match, f"seed {seed}: a read model differs from the write side's fold"
    assert letters == [], (
        f"seed {seed}: good events dead-lettered: {[(x.consumer, x.reason) for x in letters]}"
    )
    assert asked["flatten"] >= 1, f"seed {seed}: the operator never got a flatten in"
    assert tally.counts["intents placed"] >= 1, f"seed {seed}: no intent was placed"

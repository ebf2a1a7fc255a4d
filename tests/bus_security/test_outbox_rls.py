"""Row-level security on `bus.outbox`: each service's role inserts only what it produces, the drain
still reads, marks and drains every row, and `gordon migrate` keeps the policies equal to the registry.

Each role connects as itself (`dsn_for`); every attempt runs in a transaction that is rolled back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import asyncpg
import pytest
import sqlalchemy as sa

from gordon import migrate
from migrations import outbox_policies
from registry.registry import Registry
from registry.subject import Service
from schemas import REGISTRY
from settings import nats_login, roles
from tests.bus_security.nats_harness import AuthServer, Login, logged_in
from tests.bus_security.samples import SAMPLES
from tests.outbox.conftest import FAST, count_unpublished, running, stored, wait_until

INSERT = (
    "INSERT INTO bus.outbox (event_id, subject, payload, schema_name, schema_version, producer) "
    "VALUES (gen_random_uuid(), $1, '\\x7b7d', 'Test', 1, $2)"
)
RLS_DENIAL = 'new row violates row-level security policy for table "outbox"'


async def try_insert(conn: asyncpg.Connection, subject: str, producer: str) -> None:
    """Insert one row in a transaction that is always rolled back."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(INSERT, subject, producer)
    finally:
        await transaction.rollback()


@pytest.mark.parametrize("service", list(Service))
async def test_a_role_inserts_exactly_the_subjects_its_service_produces(
    service: Service, database: str, dsn_for: Callable[[str, str], str]
) -> None:
    conn = await asyncpg.connect(dsn_for(database, roles.PRODUCER_ROLE_OF[service.value]))
    try:
        mismatches = []
        for subject, concrete in SAMPLES:
            allowed = subject.producer is service
            try:
                await try_insert(conn, concrete, service.value)
            except asyncpg.InsufficientPrivilegeError as denial:
                if allowed or RLS_DENIAL not in str(denial):
                    mismatches.append(f"{concrete}: {denial}")
            else:
                if not allowed:
                    mismatches.append(f"inserted {subject.producer}'s {concrete}")
        assert mismatches == []
    finally:
        await conn.close()


async def test_the_bot_cannot_insert_a_fill(database: str, dsn_for: Callable[[str, str], str]) -> None:
    conn = await asyncpg.connect(dsn_for(database, roles.BOT))
    try:
        for producer in ("bot", "executor"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                await try_insert(conn, "trading.fills.01935f0e_8c2a_7b3d_9f10_2b6c1d4e5f60", producer)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("subject", "why"),
    [
        ("intents.executor.extra", "a token past the template"),
        ("intents", "a prefix of the template"),
        ("xintents.executor", "the template inside a longer subject"),
        ("intents.executors", "a longer last token"),
        ("intentsXexecutor", "a dot matched as any character"),
    ],
)
async def test_only_whole_subjects_of_the_template_match(
    subject: str, why: str, database: str, dsn_for: Callable[[str, str], str]
) -> None:
    conn = await asyncpg.connect(dsn_for(database, roles.BOT))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await try_insert(conn, subject, "bot")
    finally:
        await conn.close()


@pytest.mark.parametrize("service", list(Service))
async def test_a_role_cannot_sign_as_another_service(
    service: Service, database: str, dsn_for: Callable[[str, str], str]
) -> None:
    own = next(concrete for subject, concrete in SAMPLES if subject.producer is service)
    conn = await asyncpg.connect(dsn_for(database, roles.PRODUCER_ROLE_OF[service.value]))
    try:
        for other in Service:
            if other is not service:
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                    await try_insert(conn, own, other.value)
    finally:
        await conn.close()


async def test_non_producing_roles_insert_nothing(database: str, dsn_for: Callable[[str, str], str]) -> None:
    for role in (roles.DRAIN, roles.LAB_READER, roles.PROJECTOR):
        conn = await asyncpg.connect(dsn_for(database, role))
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await try_insert(conn, "intents.executor", "bot")
        finally:
            await conn.close()


async def test_readers_see_every_row_and_the_owner_is_unaffected(
    database: str, dsn_for: Callable[[str, str], str]
) -> None:
    owner = await asyncpg.connect(database)
    try:
        for subject, concrete in SAMPLES:  # the owner (superuser) inserts anything, RLS or not
            await owner.execute(INSERT, concrete, subject.producer.value)
    finally:
        await owner.close()
    for role in (roles.DRAIN, roles.LAB_READER):
        conn = await asyncpg.connect(dsn_for(database, role))
        try:
            assert await conn.fetchval("SELECT count(*) FROM bus.outbox") == len(SAMPLES)
        finally:
            await conn.close()


async def test_the_drain_drains_rows_every_service_wrote_with_least_privilege_on_both_sides(
    database: str, dsn_for: Callable[[str, str], str], auth_server: AuthServer, admin: Login
) -> None:
    """Each service's role appends its own rows; the drain, as gordon_drain on Postgres and as the
    generated `drain` user on a NATS server started with the generated config, publishes them all."""
    for subject, concrete in SAMPLES:
        conn = await asyncpg.connect(dsn_for(database, roles.PRODUCER_ROLE_OF[subject.producer.value]))
        try:
            await conn.execute(INSERT, concrete, subject.producer.value)
        finally:
            await conn.close()
    async with logged_in(auth_server, nats_login.DRAIN) as login:
        async with running(dsn_for(database, roles.DRAIN), login.client, FAST) as drain:
            await wait_until(lambda: _drained(database), "the least-privileged drain to publish every row")
        assert login.violations() == []
    assert drain.stats.published == len(SAMPLES)
    assert [m.subject for m in await stored(admin.client.jetstream())] == [c for _, c in SAMPLES]


async def _drained(database: str) -> bool:
    return await count_unpublished(database) == 0


def _policies(dsn: str) -> dict[str, tuple[str, str]]:
    """Generated policy name -> (roles, WITH CHECK) as the database holds them."""
    engine = sa.create_engine(migrate.sync_url(dsn), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT policyname, roles::text, with_check FROM pg_policies "
                    "WHERE schemaname = 'bus' AND tablename = 'outbox' AND policyname LIKE 'produce%'"
                )
            )
            return {row[0]: (row[1], row[2]) for row in rows}
    finally:
        engine.dispose()


def _sync(dsn: str, registry: Registry) -> bool:
    engine = sa.create_engine(migrate.sync_url(dsn), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            return outbox_policies.sync(conn, registry)
    finally:
        engine.dispose()


def test_migrate_keeps_the_policies_equal_to_the_registry(database: str) -> None:
    before = _policies(database)
    assert set(before) == {f"produce_{s.value}" for s in Service if REGISTRY.produced_by(s)}
    assert _sync(database, REGISTRY) is False  # current: nothing written, no lock taken

    # The bot now also produces risk.commands; the executor's subjects go away.
    changed = Registry(
        [
            dataclasses.replace(s, producer=Service.BOT) if s.template_text == "risk.commands" else s
            for s in REGISTRY
            if s.producer is not Service.EXECUTOR
        ],
        REGISTRY.streams,
        REGISTRY.bus,
        REGISTRY.history,
        REGISTRY.dead_letters,
    )
    assert _sync(database, changed) is True
    after = _policies(database)
    assert "produce_executor" not in after
    assert "risk\\.commands" in after["produce_bot"][1]
    assert _sync(database, changed) is False

    migrate.upgrade(database)  # `gordon migrate` brings the registry's own set back
    assert _policies(database) == before


def test_downgrade_below_rls_drops_every_policy_and_upgrade_restores_them(database: str) -> None:
    before = _policies(database)
    migrate.downgrade(database, "0005")
    assert _policies(database) == {}
    migrate.upgrade(database)
    assert _policies(database) == before

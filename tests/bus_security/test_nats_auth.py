"""The generated nats-server authorization, against a real server started with it: per service, its own
durables work through both consumer paths (nats-py pull and FastStream push, dead letters included) and
its own subjects publish; another service's subjects, durables and inboxes are permissions violations.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faststream.nats import NatsBroker
from faststream.security import SASLPlaintext
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from consumers.consumer import Consumer
from consumers.subscription import consumer_config, subscriber
from gordon import nats_auth
from gordon.runtime.errors import ServerStartError
from gordon.runtime.nats_server import EmbeddedNats
from projections.catalog import PROJECTIONS
from registry.dead_letters import dead_letter_subject
from registry.subject import ConsumerSpec, Service, Subject
from schemas import REGISTRY
from settings import nats_login
from tests.bus_security.nats_harness import AuthServer, Login, durable_values, logged_in
from tests.bus_security.samples import SAMPLES, sample_subject

DURABLES: list[tuple[Subject[Any], ConsumerSpec]] = [(s, c) for s in REGISTRY for c in s.consumers]
GARBAGE = b"\x00not an event"


def durable_id(case: tuple[Subject[Any], ConsumerSpec]) -> str:
    return f"{case[1].service}:{case[1].durable}"


async def dead_letters(js: JetStreamContext, count: int, seconds: float = 15.0) -> list[str]:
    """Subjects of the first `count` dead letters, waiting for them."""
    for _ in range(int(seconds / 0.05)):
        if (await js.stream_info(REGISTRY.dead_letters.name)).state.messages >= count:
            break
        await asyncio.sleep(0.05)
    return [(await js.get_msg(REGISTRY.dead_letters.name, seq)).subject or "" for seq in range(1, count + 1)]


def test_the_config_names_every_password_by_variable_and_holds_none(auth_server: AuthServer) -> None:
    text = auth_server.config.read_text()
    references = [line.strip() for line in text.splitlines() if line.strip().startswith("password:")]
    assert references == [f"password: ${nats_login.password_env(u)}" for u in nats_login.USERS]
    assert not any(password in text for password in auth_server.passwords.values())


def test_the_server_refuses_to_start_without_a_password_variable(
    auth_server: AuthServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for user, password in auth_server.passwords.items():
        monkeypatch.setenv(nats_login.password_env(user), password)
    monkeypatch.delenv(nats_login.password_env(nats_login.DRAIN))
    with pytest.raises(ServerStartError):
        EmbeddedNats(tmp_path, config=auth_server.config, timeout=10).start()
    assert "variable reference for 'GORDON_NATS_PASSWORD_DRAIN'" in (tmp_path / "nats.log").read_text()


async def test_a_wrong_password_or_no_login_is_refused(auth_server: AuthServer) -> None:
    import nats as nats_py

    async def quiet(error: Exception) -> None:
        return None

    for options in ({"user": "bot", "password": "g" + "x" * 20}, {}):
        with pytest.raises(Exception, match="Authorization Violation"):
            await nats_py.connect(
                auth_server.url, allow_reconnect=False, connect_timeout=3, error_cb=quiet, **options
            )


@pytest.mark.parametrize("case", DURABLES, ids=durable_id)
async def test_a_service_reads_and_dead_letters_through_its_own_pull_durable(
    case: tuple[Subject[Any], ConsumerSpec], auth_server: AuthServer, admin: Login
) -> None:
    subject, spec = case
    async with logged_in(auth_server, spec.service.value) as login:
        js = login.client.jetstream(timeout=5)
        values: dict[str, Any] = dict(durable_values(subject, spec))
        async with await Consumer.open(js, REGISTRY, subject, spec.service, **values) as consumer:
            await admin.client.jetstream().publish(sample_subject(subject), GARBAGE)
            with pytest.raises(TimeoutError):  # undecodable: dead-lettered and termed, never returned
                await consumer.next(timeout=3)
            letters = await dead_letters(admin.client.jetstream(), 1)
            info = await js.consumer_info(REGISTRY.bus.name, consumer.durable)
        assert letters == [f"dlq.{consumer.durable}"]
        assert (info.num_ack_pending, info.num_pending) == (0, 0)
        assert login.violations() == []


@pytest.mark.parametrize("case", DURABLES, ids=durable_id)
async def test_a_service_reads_and_dead_letters_through_its_own_faststream_subscriber(
    case: tuple[Subject[Any], ConsumerSpec], auth_server: AuthServer, admin: Login
) -> None:
    subject, spec = case
    user = spec.service.value
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    broker = NatsBroker(
        auth_server.url,
        security=SASLPlaintext(username=user, password=auth_server.passwords[user]),
        inbox_prefix=nats_login.inbox_prefix(user),
        error_cb=on_error,
        logger=None,
    )
    handled: list[object] = []

    @subscriber(broker, REGISTRY, subject, spec.service, **durable_values(subject, spec))
    async def handle(event: object) -> None:
        handled.append(event)

    async with broker:
        await broker.start()
        await admin.client.jetstream().publish(sample_subject(subject), GARBAGE)
        letters = await dead_letters(admin.client.jetstream(), 1)
    durable = consumer_config(subject, spec, durable_values(subject, spec)).durable_name
    assert letters == [f"dlq.{durable}"]
    assert handled == []
    assert [e for e in errors if "permissions violation" in e.lower()] == []


async def test_a_push_durable_made_by_another_login_is_still_delivered_to_its_service(
    auth_server: AuthServer, admin: Login
) -> None:
    """The deliver subject is fixed under the service's own inbox, whoever created the durable: here
    the admin (as a deployment that turns authorization on after its durables exist)."""
    subject, spec = next((s, c) for s, c in DURABLES if c.service is Service.EXECUTOR)

    async def handle(event: object) -> None:
        raise AssertionError("garbage never decodes")

    first = NatsBroker(auth_server.url, logger=None, **nats_login.broker_options("admin", auth_server.env()))
    subscriber(first, REGISTRY, subject, Service.EXECUTOR)(handle)
    async with first:
        await first.start()  # creates the durable
    broker = NatsBroker(
        auth_server.url, logger=None, **nats_login.broker_options("executor", auth_server.env())
    )
    subscriber(broker, REGISTRY, subject, Service.EXECUTOR)(handle)
    async with broker:
        await broker.start()
        await admin.client.jetstream().publish(sample_subject(subject), GARBAGE)
        letters = await dead_letters(admin.client.jetstream(), 1)
    assert letters == [f"dlq.{spec.durable}"]


@pytest.mark.parametrize("service", list(Service))
async def test_a_service_publishes_its_own_subjects_and_nothing_else(
    service: Service, auth_server: AuthServer, admin: Login
) -> None:
    async with logged_in(auth_server, service.value) as login:
        js = login.client.jetstream(timeout=5)
        own = [concrete for subject, concrete in SAMPLES if subject.producer is service]
        for concrete in own:
            ack = await js.publish(concrete, b"{}")
            assert ack.stream == REGISTRY.bus.name
        others = [concrete for subject, concrete in SAMPLES if subject.producer is not service]
        foreign_dlq = next(f"dlq.{c.durable}" for _, c in DURABLES if c.service is not service)
        projector_dlq = dead_letter_subject(PROJECTIONS["orders"].consumer)  # a projection runner's letters
        for concrete in [*others, foreign_dlq, projector_dlq, f"$JS.API.STREAM.DELETE.{REGISTRY.bus.name}"]:
            await login.client.publish(concrete, b"{}")
            await login.violation(f'publish to "{concrete}"')


@pytest.mark.parametrize("service", list(Service))
async def test_a_service_subscribes_to_what_it_consumes_and_its_own_inbox_only(
    service: Service, auth_server: AuthServer
) -> None:
    consumed = {s.template.wildcard() for s in REGISTRY.consumed_by(service)}
    async with logged_in(auth_server, service.value) as login:
        for pattern in [*sorted(consumed), nats_login.inbox_prefix(service.value) + ".x"]:
            await login.client.subscribe(pattern)
        await login.client.flush()
        await asyncio.sleep(0.2)
        assert login.violations() == []
        others = {s.template.wildcard() for s in REGISTRY} - consumed
        strangers = [u for u in nats_login.USERS if u != service.value]
        denied = [*sorted(others), "_INBOX.>", ">", *(nats_login.inbox_prefix(u) + ".>" for u in strangers)]
        for pattern in denied:
            await login.client.subscribe(pattern)
            await login.violation(f'subscription to "{pattern}"')


@pytest.mark.parametrize("service", list(Service))
async def test_a_service_cannot_create_or_read_another_services_durable(
    service: Service, auth_server: AuthServer, admin: Login
) -> None:
    others = [(s, c) for s, c in DURABLES if c.service is not service]
    async with logged_in(auth_server, service.value) as login:
        js = login.client.jetstream(timeout=1)

        async def attempt(subject: Subject[Any], spec: ConsumerSpec) -> str:
            config = consumer_config(subject, spec, durable_values(subject, spec))
            with pytest.raises(NatsTimeoutError):
                await js.add_consumer(REGISTRY.bus.name, config)
            await login.violation(f"$JS.API.CONSUMER.CREATE.{REGISTRY.bus.name}.{config.durable_name}.")
            return config.durable_name or ""

        created = await asyncio.gather(*(attempt(s, c) for s, c in others))
        # Nor may it read or delete them, whether they exist yet or not. A stream reader's `*` rights on
        # throwaway consumers do reach durables whose names are not fixed (the bot's): a known limit.
        fixed = {c.durable for _, c in others if not c.durable_template.names}
        names = created if service not in nats_auth.BUS_READERS else [n for n in created if n in fixed]

        async def read_and_delete(name: str) -> None:
            with pytest.raises(NatsTimeoutError):
                await js.consumer_info(REGISTRY.bus.name, name)
            await login.violation(f"$JS.API.CONSUMER.INFO.{REGISTRY.bus.name}.{name}")
            with pytest.raises(NatsTimeoutError):
                await js.delete_consumer(REGISTRY.bus.name, name)
            await login.violation(f"$JS.API.CONSUMER.DELETE.{REGISTRY.bus.name}.{name}")

        await asyncio.gather(*(read_and_delete(name) for name in names))


async def test_the_bot_cannot_publish_a_fill_subscribe_to_risk_events_or_take_a_risk_durable(
    auth_server: AuthServer, admin: Login
) -> None:
    async with logged_in(auth_server, "bot") as bot:
        await bot.client.publish("trading.fills.x", b"{}")
        await bot.violation('publish to "trading.fills.x"')
        await bot.client.subscribe("risk.events.>")
        await bot.violation('subscription to "risk.events.>"')
        # The bot's durable names hold its id, so its create right is `*`: other names are denied by name.
        js = bot.client.jetstream(timeout=1)
        klines = REGISTRY.get("market.klines.binance.{market}.{symbol_lc}.{tf}")
        config = consumer_config(klines, klines.consumer(Service.RISK), {})
        with pytest.raises(NatsTimeoutError):
            await js.add_consumer(REGISTRY.bus.name, config)
        await bot.violation("$JS.API.CONSUMER.CREATE.gordon-bus.risk-klines.")
        # Nor can a durable of its own shape read anything but klines.
        spy = consumer_config(
            klines, klines.consumer(Service.BOT), durable_values(klines, klines.consumers[0])
        )
        spy.filter_subject = "trading.>"
        with pytest.raises(NatsTimeoutError):
            await js.add_consumer(REGISTRY.bus.name, spy)
        await bot.violation(".trading.>")


async def test_the_drain_publishes_every_stream_subject_and_reads_nothing(
    auth_server: AuthServer, admin: Login
) -> None:
    async with logged_in(auth_server, nats_login.DRAIN) as drain:
        js = drain.client.jetstream(timeout=5)
        for _, concrete in SAMPLES:
            ack = await js.publish(concrete, b"{}", stream=REGISTRY.bus.name)
            assert ack.stream == REGISTRY.bus.name
        assert drain.violations() == []
        for subject in ("dlq.executor-default", f"$JS.API.STREAM.PURGE.{REGISTRY.bus.name}"):
            await drain.client.publish(subject, b"{}")
            await drain.violation(f'publish to "{subject}"')
        for pattern in ("trading.>", "_INBOX.>", f"{nats_login.inbox_prefix('bot')}.>"):
            await drain.client.subscribe(pattern)
            await drain.violation(f'subscription to "{pattern}"')


async def test_the_projector_reads_the_history_stream_and_writes_its_dead_letters_only(
    auth_server: AuthServer, admin: Login
) -> None:
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    for _, concrete in SAMPLES:
        await admin.client.jetstream().publish(concrete, b"{}")
    async with logged_in(auth_server, nats_login.PROJECTOR) as projector:
        js = projector.client.jetstream(timeout=5)
        fills = REGISTRY.get("trading.fills.{bot_id}").template.wildcard()
        for _ in range(100):  # the history stream sources the bus asynchronously
            if (await js.stream_info(REGISTRY.history.name)).state.messages >= 1:
                break
            await asyncio.sleep(0.05)
        sub = await js.pull_subscribe(  # as projections.runner reads: throwaway, unacked, from a sequence
            fills,
            stream=REGISTRY.history.name,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=1,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=60.0,
                mem_storage=True,
                num_replicas=1,
            ),
        )
        messages = await sub.fetch(10, timeout=5)
        assert [m.subject for m in messages] == [c for s, c in SAMPLES if s.template.wildcard() == fills]
        await js.delete_consumer(REGISTRY.history.name, sub._consumer)
        for projection in PROJECTIONS.values():  # what a live runner cannot decode, it dead-letters
            ack = await js.publish(dead_letter_subject(projection.consumer), b"x")
            assert ack.stream == REGISTRY.dead_letters.name
        assert projector.violations() == []
        await projector.client.publish("dlq.executor-default", b"{}")
        await projector.violation('publish to "dlq.executor-default"')
        await projector.client.publish(f"$JS.API.CONSUMER.CREATE.{REGISTRY.bus.name}.x.trading.>", b"{}")
        await projector.violation(f"$JS.API.CONSUMER.CREATE.{REGISTRY.bus.name}.")
        await projector.client.publish("trading.fills.x", b"{}")
        await projector.violation('publish to "trading.fills.x"')

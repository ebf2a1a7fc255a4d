"""POST /risk/resume, /risk/pause and /risk/flatten: the bearer token, the latch check, the audit row and
the request event in one transaction, and the risk service carrying the request out (through the drain)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from uuid import UUID

import nats as nats_py
import pytest

from producers.drain.config import DrainConfig
from producers.drain.runner import run_drain
from producers.tracing import trace_id_of
from projections.latch import LatchProjection
from projections.runner import Runner
from registry import headers as h
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.risk import (
    RISK_COMMANDS,
    RISK_REQUESTS,
    CommandKind,
    OperatorAction,
    OperatorRequest,
    OperatorRequestV1,
)
from services.risk.requests import Outcome
from services.risk.service import RiskService
from services.risk.service import build as build_risk
from settings import roles
from settings.dsn import with_user
from tests.manager_api.conftest import TOKEN, Api, ServeApi
from tests.manager_api.helpers import fetch
from tests.waiting import eventually

AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = DrainConfig(
    batch_size=200, ack_timeout_s=2.0, retry_first_s=0.05, retry_max_s=0.5, standby_poll_s=0.05
)


async def nothing_written(database: str) -> bool:
    audit = await fetch(database, "SELECT 1 FROM trading.risk_audit_log")
    outbox = await fetch(database, "SELECT 1 FROM bus.outbox")
    return not audit and not outbox


async def test_write_endpoints_are_refused_when_no_token_is_configured(
    serve_api: ServeApi, database: str
) -> None:
    api = await serve_api(token=None)
    for path in ("/risk/resume", "/risk/pause", "/risk/flatten"):
        r = await api.post(path, json={"reason": "x"}, headers=AUTH)
        assert r.status_code == 503, r.text
        assert r.json()["detail"] == "write endpoints are disabled: GORDON_MANAGER_TOKEN is not set"
    assert await nothing_written(database)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing bearer token (Authorization: Bearer <token>)"),
        ({"Authorization": "Bearer not-the-token"}, "wrong bearer token"),
        ({"Authorization": f"Basic {TOKEN}"}, "missing bearer token (Authorization: Bearer <token>)"),
    ],
)
async def test_a_missing_or_wrong_token_gets_401(
    api: Api, database: str, headers: dict[str, str], message: str
) -> None:
    for path in ("/risk/resume", "/risk/pause", "/risk/flatten"):
        r = await api.post(path, json={"reason": "x"}, headers=headers)
        assert r.status_code == 401, r.text
        assert r.json()["detail"] == message
        assert r.headers["WWW-Authenticate"] == "Bearer"
    assert await nothing_written(database)


async def test_resume_while_running_is_409_and_writes_nothing(api: Api, database: str) -> None:
    r = await api.post("/risk/resume", json={"reason": "all good"}, headers=AUTH)
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == "resume refused: the risk latch is not halted"
    assert await nothing_written(database)


async def test_a_blank_reason_is_422_naming_the_field(api: Api, database: str) -> None:
    r = await api.post("/risk/flatten", json={"reason": "   "}, headers=AUTH)
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith("body.reason:")
    r = await api.post("/risk/flatten", json={"reason": "a\x00b"}, headers=AUTH)  # PostgreSQL refuses NUL
    assert r.status_code == 422, r.text
    assert r.json()["message"] == "body.reason: needs a visible character and no control characters"
    r = await api.post("/risk/flatten", json={}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["message"] == "body.reason: Field required"
    assert await nothing_written(database)


async def test_flatten_is_audited_with_its_request_in_one_transaction(api: Api, database: str) -> None:
    r = await api.post("/risk/flatten", json={"reason": "too volatile", "actor": "dana"}, headers=AUTH)
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) == {"requestId", "action"}
    assert body["action"] == "flatten"
    request_id = UUID(body["requestId"])
    audit = await fetch(database, "SELECT action, actor, reason FROM trading.risk_audit_log")
    assert [tuple(a) for a in audit] == [
        ("flatten", "dana", f"requested through the manager API (request {request_id}): too volatile")
    ]
    rows = await fetch(database, "SELECT subject, producer, payload FROM bus.outbox")
    assert [(r["subject"], r["producer"]) for r in rows] == [("risk.requests.flatten", "manager")]
    request = REGISTRY.codec(RISK_REQUESTS).decode(bytes(rows[0]["payload"]))
    assert (request.request_id, request.action, request.actor, request.reason) == (
        request_id,
        OperatorAction.FLATTEN,
        "dana",
        "too volatile",
    )


@pytest.fixture
async def risk_side(api: Api, database: str, nats_url: str) -> AsyncIterator[RiskService]:
    """The drain, the risk service and the risk_state projection runner, beside the served API."""
    stop = asyncio.Event()
    risk = build_risk(
        nats_url=nats_url, database_url=database, capital=Decimal("10000"), check_interval_s=3600
    )
    await risk.app.start()
    drain = asyncio.create_task(run_drain(nats_url, database, stop, FAST))
    client = await nats_py.connect(nats_url)
    runner = Runner(LatchProjection(), with_user(database, roles.PROJECTOR), client.jetstream(), REGISTRY)
    projecting = asyncio.create_task(runner.run(stop))
    try:
        yield risk
    finally:
        stop.set()
        await asyncio.wait({drain, projecting}, timeout=20)
        await client.close()
        await risk.app.stop()


async def latch_halted(api: Api) -> bool | None:
    r = await api.get("/risk")
    assert r.status_code == 200, r.text
    return bool(r.json()["latch"]["halted"])


async def commands(database: str) -> list[CommandKind]:
    rows = await fetch(database, "SELECT payload FROM bus.outbox WHERE subject = 'risk.commands' ORDER BY id")
    return [REGISTRY.codec(RISK_COMMANDS).decode(bytes(r["payload"])).command for r in rows]


@pytest.mark.timeout(90)
async def test_flatten_then_resume_are_carried_out_by_the_risk_service(
    api: Api, risk_side: RiskService, database: str, nats_url: str
) -> None:
    r = await api.post("/risk/flatten", json={"reason": "manual stop", "actor": "erin"}, headers=AUTH)
    assert r.status_code == 202, r.text
    flatten_id = r.json()["requestId"]

    async def halted() -> bool:
        return await latch_halted(api) is True

    await eventually(halted, "the flatten to halt the latch (risk_state projection)")
    events = await fetch(
        database, "SELECT breaker, action, message FROM trading.risk_events ORDER BY version"
    )
    assert [(e["breaker"], e["action"]) for e in events] == [("manual", "trip")]
    assert events[0]["message"] == f"flatten by erin: manual stop (request {flatten_id})"
    assert await commands(database) == [CommandKind.PAUSE, CommandKind.FLATTEN]

    r = await api.post("/risk/resume", json={"reason": "checked", "actor": "erin"}, headers=AUTH)
    assert r.status_code == 202, r.text
    resume_id = r.json()["requestId"]

    async def running() -> bool:
        return await latch_halted(api) is False

    await eventually(running, "the resume to clear the latch")
    assert await commands(database) == [CommandKind.PAUSE, CommandKind.FLATTEN, CommandKind.RESUME]
    audit = await fetch(database, "SELECT action, actor, reason FROM trading.risk_audit_log ORDER BY id")
    assert [tuple(a) for a in audit] == [
        ("flatten", "erin", f"requested through the manager API (request {flatten_id}): manual stop"),
        ("flatten", "erin", f"manual stop (request {flatten_id})"),
        ("resume", "erin", f"requested through the manager API (request {resume_id}): checked"),
        ("resume", "erin", f"checked (request {resume_id})"),
    ]
    # A redelivered request does nothing the second time.
    rows = await fetch(database, "SELECT payload FROM bus.outbox WHERE subject = 'risk.requests.resume'")
    again = REGISTRY.codec(RISK_REQUESTS).decode(bytes(rows[0]["payload"]))
    assert await risk_side.on_request(again) is Outcome.DUPLICATE
    assert len(await fetch(database, "SELECT 1 FROM trading.risk_events")) == 2
    assert again.latch_version == 1  # the version the API saw halted
    await _who_acted_and_one_trace_per_request_on_the_bus(nats_url)


async def _who_acted_and_one_trace_per_request_on_the_bus(nats_url: str) -> None:
    """The requests and the risk commands they caused carry Gordon-Actor, and each command the trace of
    the request it carries out (the manager starts one per request)."""
    client = await nats_py.connect(nats_url)
    try:
        js = client.jetstream()
        last = (await js.stream_info(REGISTRY.bus.name)).state.last_seq
        seen = [await js.get_msg(REGISTRY.bus.name, seq) for seq in range(1, last + 1)]
    finally:
        await client.close()
    operator = [(m.subject, m.headers or {}) for m in seen if (m.subject or "").startswith("risk.")]
    actors = [(subject, headers.get(h.ACTOR)) for subject, headers in operator]
    assert actors == [
        ("risk.requests.flatten", "erin"),
        ("risk.events.manual", "erin"),
        ("risk.commands", "erin"),
        ("risk.commands", "erin"),
        ("risk.requests.resume", "erin"),
        ("risk.events.manual", "erin"),
        ("risk.commands", "erin"),
    ]
    traces = [trace_id_of(headers.get(h.TRACE_ID)) for _, headers in operator]
    assert len(set(traces[:4])) == 1
    assert len(set(traces[4:])) == 1
    assert traces[0] != traces[4]
    assert None not in traces


@pytest.mark.timeout(90)
async def test_pause_halts_without_flattening_and_resume_clears_it(
    api: Api, risk_side: RiskService, database: str
) -> None:
    r = await api.post("/risk/pause", json={"reason": "maintenance", "actor": "hana"}, headers=AUTH)
    assert r.status_code == 202, r.text
    assert r.json()["action"] == "pause"
    pause_id = r.json()["requestId"]

    async def halted() -> bool:
        return await latch_halted(api) is True

    await eventually(halted, "the pause to halt the latch (risk_state projection)")
    events = await fetch(database, "SELECT breaker, action, message FROM trading.risk_events")
    assert [tuple(e) for e in events] == [
        ("manual", "trip", f"pause by hana: maintenance (request {pause_id})")
    ]
    assert await commands(database) == [CommandKind.PAUSE]  # positions stay open

    r = await api.post("/risk/resume", json={"reason": "done", "actor": "hana"}, headers=AUTH)
    assert r.status_code == 202, r.text

    async def running() -> bool:
        return await latch_halted(api) is False

    await eventually(running, "the resume to clear the latch")
    assert await commands(database) == [CommandKind.PAUSE, CommandKind.RESUME]
    audit = await fetch(database, "SELECT action, actor FROM trading.risk_audit_log ORDER BY id")
    assert [tuple(a) for a in audit] == [("pause", "hana")] * 2 + [("resume", "hana")] * 2


def test_a_v1_request_of_an_older_manager_decodes_as_the_same_v2_request() -> None:
    old = OperatorRequestV1(
        request_id=uuid7(), action="flatten", actor="ivy", reason="old manager", ts_ms=5, latch_version=None
    )
    wire = b'{"schema_version":1,' + old.model_dump_json(exclude={"schema_version"}).encode()[1:]
    upcast = REGISTRY.codec(RISK_REQUESTS).decode(wire)
    assert isinstance(upcast, OperatorRequest)
    assert (upcast.schema_version, upcast.event_id, upcast.request_id, upcast.action) == (
        2,
        old.event_id,
        old.request_id,
        OperatorAction.FLATTEN,
    )


async def test_a_resume_for_a_latch_that_moved_since_is_refused_by_risk(
    api: Api, risk_side: RiskService, database: str
) -> None:
    r = await api.post("/risk/flatten", json={"reason": "stop"}, headers=AUTH)
    assert r.status_code == 202, r.text

    async def halted() -> bool:
        return await latch_halted(api) is True

    await eventually(halted, "the flatten to halt the latch")
    stale = OperatorRequest(
        request_id=uuid7(),
        action=OperatorAction.RESUME,
        actor="gil",
        reason="old view",
        ts_ms=1,
        latch_version=0,
    )
    assert await risk_side.on_request(stale) is Outcome.REFUSED
    assert len(await fetch(database, "SELECT 1 FROM trading.risk_events")) == 1
    current = OperatorRequest(
        request_id=uuid7(), action=OperatorAction.RESUME, actor="gil", reason="seen", ts_ms=2, latch_version=1
    )
    assert await risk_side.on_request(current) is Outcome.DONE
    events = await fetch(database, "SELECT action FROM trading.risk_events ORDER BY version")
    assert [e["action"] for e in events] == ["trip", "resume"]


async def test_a_resume_request_for_a_running_latch_is_refused_by_risk(
    risk_side: RiskService, database: str
) -> None:
    request = OperatorRequest(
        request_id=uuid7(), action=OperatorAction.RESUME, actor="finn", reason="late", ts_ms=1_700_000_000_000
    )
    assert await risk_side.on_request(request) is Outcome.REFUSED
    assert await risk_side.on_request(request) is Outcome.DUPLICATE
    assert await fetch(database, "SELECT 1 FROM trading.risk_events") == []
    assert await fetch(database, "SELECT 1 FROM trading.risk_audit_log") == []

"""`GET /healthz`: 200 when every check passes, 503 naming each failed check and why; `GET /readiness`:
the same report, always 200, for a page or a dashboard that reads it (a probe reads the status code).

Checks (each bounded by the policy's timeout, run concurrently):
- `postgres`: a query as gordon_manager;
- `nats`: the API's connection is up;
- `stream:<name>`: each declared stream exists (gordon-bus, gordon-history, gordon-dlq);
- `durable:<name>`: each required durable consumer exists on gordon-bus;
- `drainLeader`: a session holds the drain's leader advisory lock in this database (the lock dies with
  its connection, so a holder is a live drain);
- `projection:<name>`: a live generation, not halted, and at most `max_projection_lag` events of its
  subject in gordon-history after its processed sequence;
- the manager service's own readiness: each of its durables bound to it (`durable:<name>`);
and, reported beside the checks without deciding the status, `services`: whether each other service's
`/healthz` answers 200 (the failed checks it names, if not).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Literal

import httpx
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from nats.js.errors import NotFoundError

from producers.drain.config import LOCK_KEY
from projections.catalog import PROJECTIONS
from projections.status import pending_after
from schemas import REGISTRY
from services.manager.api.backend import Backend, backend
from services.manager.api.models import CamelModel
from services.readiness import Check as ReadinessCheck
from services.readiness import Failed, Verdict, evaluate, gauges_of

router = APIRouter(tags=["operations"])

LEADER = """
SELECT l.pid FROM pg_catalog.pg_locks l
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid
LIMIT 1
"""
TRACKING = (
    "SELECT name, generation, processed_seq, halted_seq, halted_reason FROM trading.projection_tracking()"
)


class CheckResult(CamelModel):
    ok: bool
    detail: str


class Health(CamelModel):
    status: Literal["ok", "failing"]
    checks: dict[str, CheckResult]
    failed: list[str]
    services: dict[str, CheckResult] = {}
    """Each other service's readiness as its /healthz answers it (reported; not part of `status`)."""


Check = Callable[[Backend], Awaitable[str]]


async def _postgres(api: Backend) -> str:
    await api.pool.fetchval("SELECT 1")
    return "query answered"


async def _nats(api: Backend) -> str:
    if not api.nc.is_connected:
        raise Failed("not connected")
    url = api.nc.connected_url  # host and port only: a URL's netloc may carry user:password
    return f"connected to {url.hostname}:{url.port}" if url else "connected"


def _stream(name: str) -> Check:
    async def check(api: Backend) -> str:
        try:
            info = await api.js.stream_info(name)
        except NotFoundError:
            raise Failed(f"stream {name} does not exist") from None
        return f"{info.state.messages} messages, last seq {info.state.last_seq}"

    return check


def _durable(name: str) -> Check:
    async def check(api: Backend) -> str:
        try:
            info = await api.js.consumer_info(REGISTRY.bus.name, name)
        except NotFoundError:
            raise Failed(f"durable {name} does not exist on {REGISTRY.bus.name}") from None
        return f"{info.num_pending} pending, {info.num_ack_pending} unacked"

    return check


async def _drain_leader(api: Backend) -> str:
    pid = await api.pool.fetchval(LEADER, LOCK_KEY)
    if pid is None:
        raise Failed("no session holds the drain leader lock: no drain is forwarding the outbox")
    return f"held by backend pid {pid}"


def _projection(name: str) -> Check:
    async def check(api: Backend) -> str:
        rows = {r["name"]: r for r in await api.pool.fetch(TRACKING)}
        row = rows.get(name)
        if row is None:
            raise Failed("no live generation")
        if row["processed_seq"] is None:
            raise Failed(f"generation {row['generation']} has no tracking row")
        if row["halted_seq"] is not None:
            raise Failed(f"halted at seq {row['halted_seq']}: {row['halted_reason']}")
        subject = PROJECTIONS[name].subject.template.wildcard()
        try:
            lag = await pending_after(api.js, REGISTRY.history.name, subject, row["processed_seq"])
        except NotFoundError:
            raise Failed(f"stream {REGISTRY.history.name} does not exist") from None
        limit = api.deps.health.max_projection_lag
        if lag > limit:
            raise Failed(f"{lag} events behind (more than {limit})")
        return f"generation {row['generation']}, processed seq {row['processed_seq']}, {lag} behind"

    return check


def checks(api: Backend) -> dict[str, Check]:
    """Every check, by the name /healthz reports it under."""
    found: dict[str, Check] = {"postgres": _postgres, "nats": _nats}
    found |= {f"stream:{s.name}": _stream(s.name) for s in REGISTRY.streams}
    found |= {f"durable:{d}": _durable(d) for d in api.deps.health.durables}
    found["drainLeader"] = _drain_leader
    found |= {f"projection:{name}": _projection(name) for name in PROJECTIONS}
    return found


def _peer(url: str) -> Check:
    async def check(api: Backend) -> str:
        async with httpx.AsyncClient(timeout=api.deps.health.timeout_s) as client:
            try:
                answer = await client.get(f"{url}/healthz")
            except httpx.HTTPError as exc:
                raise Failed(f"{url}/healthz: {type(exc).__name__}: {exc}".strip()) from None
        if answer.status_code == 200:
            return f"ready ({url})"
        try:
            failed = ", ".join(answer.json().get("failed", [])) or "no check named"
        except ValueError:
            failed = answer.text[:200]
        raise Failed(f"{url}/healthz answered {answer.status_code}: {failed}")

    return check


def _explain(api: Backend) -> Callable[[], str]:
    """A permissions violation shows only in the connection's last error, as a missing reply."""
    return lambda: f" (NATS last reported: {api.nc.last_error})" if api.nc.last_error is not None else ""


async def health(api: Backend) -> Health:
    """Every check's result; the verdict is also recorded in the manager's readiness gauges."""
    named: dict[str, ReadinessCheck] = {n: partial(c, api) for n, c in checks(api).items()}
    if api.deps.service is not None:
        own = api.deps.service.checks()
        named |= {n: c for n, c in own.items() if n.startswith("durable:") or n == "lastEvent"}
    peers = {name: partial(_peer(url), api) for name, url in api.deps.peers.items()}
    verdict, others = await asyncio.gather(
        evaluate(named, api.deps.health.timeout_s, _explain(api)), evaluate(peers, api.deps.health.timeout_s)
    )
    gauges_of("manager").record(verdict)
    return Health(
        status="ok" if verdict.ready else "failing",
        checks=_results(verdict),
        failed=verdict.failed,
        services=_results(others),
    )


def _results(verdict: Verdict) -> dict[str, CheckResult]:
    return {n: CheckResult(ok=r.ok, detail=r.detail) for n, r in verdict.results.items()}


@router.get(
    "/healthz",
    operation_id="health",
    response_model=Health,
    response_model_by_alias=True,
    responses={503: {"model": Health, "description": "at least one check failed; `failed` names them"}},
)
async def healthz(api: Annotated[Backend, Depends(backend)]) -> JSONResponse:
    """Postgres, NATS, streams, durables, the drain leader, projection lag and the other services."""
    found = await health(api)
    return JSONResponse(
        found.model_dump(mode="json", by_alias=True), status_code=503 if found.failed else 200
    )


@router.get("/readiness", operation_id="readiness", response_model=Health, response_model_by_alias=True)
async def readiness(api: Annotated[Backend, Depends(backend)]) -> Health:
    """The /healthz report answered 200 whatever it says: a failed check is news to show, not an error."""
    return await health(api)

"""`GET /healthz`: 200 when every check passes, 503 naming each failed check and why.

Checks (each bounded by the policy's timeout, run concurrently):
- `postgres`: a query as gordon_manager;
- `nats`: the API's connection is up;
- `stream:<name>`: each declared stream exists (gordon-bus, gordon-history, gordon-dlq);
- `durable:<name>`: each required durable consumer exists on gordon-bus;
- `drainLeader`: a session holds the drain's leader advisory lock in this database (the lock dies with
  its connection, so a holder is a live drain);
- `projection:<name>`: a live generation, not halted, and at most `max_projection_lag` events of its
  subject in gordon-history after its processed sequence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from nats.js.errors import NotFoundError

from producers.drain.config import LOCK_KEY
from projections.catalog import PROJECTIONS
from projections.status import pending_after
from schemas import REGISTRY
from services.manager.api.backend import Backend, backend
from services.manager.api.models import CamelModel

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


class Failed(Exception):
    """A check did not pass; str() says why."""


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


async def _run(api: Backend, check: Check) -> CheckResult:
    try:
        async with asyncio.timeout(api.deps.health.timeout_s):
            return CheckResult(ok=True, detail=await check(api))
    except Failed as failed:
        return CheckResult(ok=False, detail=str(failed))
    except TimeoutError:
        detail = f"no answer within {api.deps.health.timeout_s:g} s"
        if api.nc.last_error is not None:  # a permissions violation shows only here, as a missing reply
            detail += f" (NATS last reported: {api.nc.last_error})"
        return CheckResult(ok=False, detail=detail)
    except Exception as exc:  # a check's failure is its result, never a 500
        return CheckResult(ok=False, detail=f"{type(exc).__name__}: {exc}".strip())


async def health(api: Backend) -> Health:
    named = checks(api)
    results = await asyncio.gather(*(_run(api, c) for c in named.values()))
    by_name = dict(zip(named, results, strict=True))
    failed = [name for name, r in by_name.items() if not r.ok]
    return Health(status="failing" if failed else "ok", checks=by_name, failed=failed)


@router.get(
    "/healthz",
    operation_id="health",
    response_model=Health,
    response_model_by_alias=True,
    responses={503: {"model": Health, "description": "at least one check failed; `failed` names them"}},
)
async def healthz(api: Annotated[Backend, Depends(backend)]) -> JSONResponse:
    """Postgres, NATS, streams, durables, the drain leader and projection lag."""
    found = await health(api)
    return JSONResponse(
        found.model_dump(mode="json", by_alias=True), status_code=503 if found.failed else 200
    )

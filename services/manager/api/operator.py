"""`POST /risk/resume`, `/risk/pause` and `/risk/flatten`: operator requests, accepted here, carried out by
risk.

The manager never publishes the risk service's subjects (risk.events, risk.commands): it writes an
audit row and an OperatorRequest on risk.requests.{action} in one transaction and answers 202 with the
request id; the risk service resumes (as `gordon risk resume` does), pauses (a manual trip, then pause)
or flattens (a manual trip, then pause and flatten). A resume while the latch is not halted is refused
here with 409; an accepted one names the latch version it saw halted, and the risk service refuses it if
the latch has moved since.
"""

from __future__ import annotations

from typing import Annotated, cast
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, HTTPException
from pydantic import ConfigDict, Field

from producers import tracing
from producers.channels import RISK_REQUESTS
from registry.ids import uuid7
from schemas.risk import OperatorAction, OperatorRequest
from services.manager.api.auth import AUTH_RESPONSES, require_token
from services.manager.api.backend import Backend, backend
from services.manager.api.models import CamelModel
from services.manager.api.readmodels import fetch_latch
from services.risk.halt import AUDIT, GLOBAL

router = APIRouter(tags=["risk"], dependencies=[Depends(require_token)])

DEFAULT_ACTOR = "operator"
BAD_BODY: dict[int | str, dict[str, str]] = {400: {"description": "the body is not readable JSON"}}


AFTER_FLATTEN = {
    "LatchAfterFlatten": {"operationId": "getRisk", "description": "the latch the flatten halts"},
    "ResumeAfterFlatten": {
        "operationId": "requestResume",
        "requestBody": {"reason": "resume after the flatten"},
        "description": "resume once the flatten has halted the latch",
    },
}


AFTER_PAUSE = {
    "LatchAfterPause": {"operationId": "getRisk", "description": "the latch the pause halts"},
    "ResumeAfterPause": {
        "operationId": "requestResume",
        "requestBody": {"reason": "resume after the pause"},
        "description": "resume once the pause has halted the latch",
    },
}


_PLAIN = "\\x00-\\x1f\\x7f-\\x9f"
_VISIBLE = (
    "!-~\\u00a1-\\u167f\\u1681-\\u1fff\\u200b-\\u2027\\u202a-\\u202e\\u2030-\\u205e"
    "\\u2060-\\u2fff\\u3001-\\uffff"
)
TEXT = f"^[^{_PLAIN}]*[{_VISIBLE}][^{_PLAIN}]*$"
"""Audited text: at least one visible character and no control characters (NUL would fail PostgreSQL),
spelled out as ranges so Python's and ECMAScript's regexes (an OpenAPI reader's) agree on it. A lone
surrogate (which UTF-8, so PostgreSQL, cannot hold) pydantic refuses as not a valid string."""


class OperatorBody(CamelModel):
    model_config = ConfigDict(regex_engine="python-re")

    reason: str = Field(min_length=1, max_length=500, pattern=TEXT, description="why (audited)")
    actor: str = Field(
        default=DEFAULT_ACTOR, min_length=1, max_length=100, pattern=TEXT, description="who asks (audited)"
    )


class Accepted(CamelModel):
    request_id: UUID = Field(description="the id the risk service carries the request out under")
    action: OperatorAction


@router.post(
    "/risk/resume",
    operation_id="requestResume",
    status_code=202,
    response_model=Accepted,
    response_model_by_alias=True,
    responses={**AUTH_RESPONSES, **BAD_BODY, 409: {"description": "the latch is not halted"}},
)
async def resume(api: Annotated[Backend, Depends(backend)], body: OperatorBody) -> Accepted:
    """Ask the risk service to clear the halt latch (audited)."""
    latch = await fetch_latch(api.pool, GLOBAL)
    if not latch.halted:
        raise HTTPException(409, "resume refused: the risk latch is not halted")
    return await _request(api, OperatorAction.RESUME, body, latch_version=latch.version)


@router.post(
    "/risk/flatten",
    operation_id="requestFlatten",
    status_code=202,
    response_model=Accepted,
    response_model_by_alias=True,
    responses={**AUTH_RESPONSES, **BAD_BODY, 202: {"links": AFTER_FLATTEN}},
)
async def flatten(api: Annotated[Backend, Depends(backend)], body: OperatorBody) -> Accepted:
    """Ask the risk service to halt, pause every bot and close every position (audited)."""
    return await _request(api, OperatorAction.FLATTEN, body)


@router.post(
    "/risk/pause",
    operation_id="requestPause",
    status_code=202,
    response_model=Accepted,
    response_model_by_alias=True,
    responses={**AUTH_RESPONSES, **BAD_BODY, 202: {"links": AFTER_PAUSE}},
)
async def pause(api: Annotated[Backend, Depends(backend)], body: OperatorBody) -> Accepted:
    """Ask the risk service to halt and pause every bot, keeping the positions open (audited)."""
    return await _request(api, OperatorAction.PAUSE, body)


async def _request(
    api: Backend, action: OperatorAction, body: OperatorBody, *, latch_version: int | None = None
) -> Accepted:
    """The audit row and the request event, in one transaction."""
    now = api.deps.clock()
    request = OperatorRequest(
        request_id=uuid7(now),
        action=action,
        actor=body.actor.strip(),
        reason=body.reason.strip(),
        ts_ms=now,
        latch_version=latch_version,
    )
    audited = f"requested through the manager API (request {request.request_id}): {request.reason}"
    with tracing.origin(f"operator {action.value}"):
        async with api.pool.acquire() as proxy, proxy.transaction():
            conn = cast(asyncpg.Connection, proxy)  # the pool hands out proxies of a Connection
            await conn.execute(AUDIT, action.value, request.actor, audited, now)
            address = RISK_REQUESTS(action=action.value)
            await api.outbox.publish_within(conn, address, request, actor=request.actor)
    return Accepted(request_id=request.request_id, action=action)

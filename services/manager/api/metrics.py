"""`GET /metrics`: the manager's Prometheus registry as text: its consumers, its HTTP requests and live
feed, its readiness, and the platform as it sees it (durable lag, outbox backlog, drain leader, latch,
the other services' readiness), read from the servers at each scrape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from consumers.metrics import registry_of
from services.manager.api.backend import Backend, backend
from services.manager.api.health import health
from services.manager.api.platform_metrics import GAUGES

MANAGER = registry_of("manager")

REQUESTS = Counter(
    "gordon_manager_http_requests",
    "Requests the manager API answered, by route template, method and status code.",
    ["route", "method", "status"],
    registry=MANAGER,
)

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(api: Annotated[Backend, Depends(backend)]) -> Response:
    """The manager's metrics and the platform's, in the Prometheus text format."""
    await GAUGES.refresh(api.pool, api.js)
    found = await health(api)  # records the manager's readiness gauges too
    GAUGES.record_peers({name: result.ok for name, result in found.services.items()})
    return Response(generate_latest(MANAGER), media_type=CONTENT_TYPE_LATEST)

"""`GET /metrics`: the process's Prometheus registry as text, plus HTTP request counts of this API."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest

REQUESTS = Counter(
    "gordon_manager_http_requests",
    "Requests the manager API answered, by route template, method and status code.",
    ["route", "method", "status"],
)

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics() -> Response:
    """Every metric of this process (bus, consumers, projections, HTTP) in the Prometheus text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

"""`create_app(deps)`: the manager's FastAPI app with every router mounted.

Its lifespan opens the backend (a gordon_manager pool and a NATS connection) and closes it; routers of
other parts of the manager (live feed, docs) are included here, one line each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from services.manager.api import bots, fills, health, klines, metrics, operator, orders, positions, risk
from services.manager.api.backend import ApiDeps, Backend
from services.manager.api.docs import docs_router
from services.manager.api.docs.schema import nats_hosts
from services.manager.api.live import live_router
from services.manager.api.readmodels import ReadModelMissing

TITLE = "gordon manager"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted under their own name; any other (a client may send any token) counts as "other"."""


def create_app(deps: ApiDeps) -> FastAPI:
    """The manager API over `deps`; serve it with granian (see services/manager/api/serve.py)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            opened = await Backend.open(deps)
        except Exception as exc:
            app.state.startup_error = f"{type(exc).__name__}: {exc}"
            raise
        app.state.backend = opened
        try:
            yield
        finally:
            app.state.backend = None
            await opened.close()

    app = FastAPI(
        title=TITLE,
        version="1",
        description="The control plane of gordon: trading state, the risk latch, health. JSON is camelCase.",
        lifespan=lifespan,
        # FastAPI's Swagger UI and ReDoc pages load their scripts from a CDN; the API's document stays at
        # /openapi.json and the bus's own docs browser at /docs/asyncapi serves everything itself.
        docs_url=None,
        redoc_url=None,
    )
    app.state.deps = deps
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler(ReadModelMissing)(_read_model_missing)
    app.middleware("http")(_count_requests)
    for router in (
        orders.router,
        fills.router,
        positions.router,
        bots.router,
        klines.router,
        risk.router,
        operator.router,
        health.router,
        metrics.router,
    ):
        app.include_router(router)
    app.include_router(docs_router(nats_hosts(deps.nats_url)))  # the servers this manager uses
    app.include_router(live_router(deps.live))
    return app


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """422 with FastAPI's `detail` list plus one `message` line naming each bad input."""
    assert isinstance(exc, RequestValidationError)
    errors = [_plain(dict(e)) for e in exc.errors()]
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors]
    detail = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in errors]
    return JSONResponse({"detail": detail, "message": "; ".join(parts)}, status_code=422)


def _plain(error: dict[str, Any]) -> dict[str, Any]:
    """A pattern error of audited text says what the pattern means instead of quoting it."""
    if (
        error.get("type") == "string_pattern_mismatch"
        and error.get("ctx", {}).get("pattern") == operator.TEXT
    ):
        error["msg"] = "needs a visible character and no control characters"
    return error


async def _read_model_missing(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=503)


async def _count_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Count each answer by route template (not the raw path) and known method: bounded label values."""
    response = await call_next(request)
    method = request.method if request.method in METHODS else "other"
    metrics.REQUESTS.labels(_route_of(request), method, str(response.status_code)).inc()
    return response


def _route_of(request: Request) -> str:
    """The template of the route that answered (routing records it in the scope), else "unmatched"."""
    path = getattr(request.scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"

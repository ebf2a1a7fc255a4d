"""An app serving only the docs browser (`gordon docs`): no NATS, no Postgres, no manager API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from registry.asyncapi import DEFAULT_NATS_HOST
from services.manager.api.docs.page import PAGE_PATH
from services.manager.api.docs.router import docs_router


def create_docs_app(nats_host: str = DEFAULT_NATS_HOST) -> FastAPI:
    """The docs router alone, with / sending the browser to the page (no Swagger UI, no OpenAPI)."""
    app = FastAPI(title="gordon-bus AsyncAPI docs", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(docs_router(nats_host))

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        """The docs page is the only page."""
        return RedirectResponse(PAGE_PATH.removeprefix("/"), status_code=307)

    return app

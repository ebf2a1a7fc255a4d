"""The docs browser's routes: the page, the generated AsyncAPI YAML, our script and stylesheet, and the
vendored component files (version in the URL, so they are cached for good)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

from registry.asyncapi import DEFAULT_NATS_HOST
from services.manager.api.docs import vendored
from services.manager.api.docs.assets import (
    IMMUTABLE,
    MEDIA_TYPES,
    REVALIDATE,
    Asset,
    file_asset,
    text_asset,
)
from services.manager.api.docs.page import (
    CONTENT_SECURITY_POLICY,
    PAGE_PATH,
    PAGE_STYLESHEET,
    RENDER_SCRIPT,
    SCHEMA_PATH,
    STATIC_PREFIX,
    VENDOR_PREFIX,
    page_html,
)
from services.manager.api.docs.schema import asyncapi_document, asyncapi_text

STATIC_DIR = Path(__file__).resolve().parent / "static"
METHODS = ["GET", "HEAD"]
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def docs_router(nats_host: str | Sequence[str] = DEFAULT_NATS_HOST) -> APIRouter:
    """Routes for /docs/asyncapi and its files; the schema is generated from the registry now, with
    `nats_host` as its server entry. Every file is read once, here."""
    document = asyncapi_document(nats_host)
    page = text_asset(page_html(str(document["info"]["title"])), MEDIA_TYPES[".html"], headers=PAGE_HEADERS)
    schema = text_asset(asyncapi_text(document), MEDIA_TYPES[".yaml"])
    static = {name: file_asset(STATIC_DIR / name, REVALIDATE) for name in (RENDER_SCRIPT, PAGE_STYLESHEET)}
    vendor = {name: file_asset(vendored.VENDOR_DIR / name, IMMUTABLE) for name in vendored.SERVED}

    router = APIRouter(tags=["docs"], include_in_schema=False)

    @router.api_route(PAGE_PATH, methods=METHODS)
    async def asyncapi_page(request: Request) -> Response:
        """The AsyncAPI docs browser."""
        return await page.respond(request)

    @router.api_route(SCHEMA_PATH, methods=METHODS)
    async def asyncapi_yaml(request: Request) -> Response:
        """The AsyncAPI document the page renders, generated from the registry."""
        return await schema.respond(request)

    @router.api_route(STATIC_PREFIX + "/{name}", methods=METHODS)
    async def docs_static(request: Request, name: str) -> Response:
        """The page's own script and stylesheet."""
        return await _lookup(static, name, "docs file").respond(request)

    @router.api_route(VENDOR_PREFIX + "/{name}", methods=METHODS)
    async def docs_vendor(request: Request, name: str) -> Response:
        """The vendored @asyncapi/react-component bundle, stylesheet and licences."""
        return await _lookup(vendor, name, f"{vendored.PACKAGE} {vendored.VERSION} file").respond(request)

    return router


def _lookup(assets: dict[str, Asset], name: str, kind: str) -> Asset:
    """The asset called `name`, or a 404 saying which names exist."""
    try:
        return assets[name]
    except KeyError:
        raise HTTPException(404, f"no {kind} {name!r}; there are: {', '.join(sorted(assets))}") from None

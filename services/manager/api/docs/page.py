"""The HTML of /docs/asyncapi: the vendored stylesheet and bundle, then our script that fetches the
schema from the same app and renders it. Every URL is relative, so nothing leaves the serving origin."""

from __future__ import annotations

from html import escape

from services.manager.api.docs.vendored import BUNDLE, STYLESHEET, VERSION

PAGE_PATH = "/docs/asyncapi"
SCHEMA_PATH = "/docs/asyncapi.yaml"
STATIC_PREFIX = "/docs/asyncapi/static"
VENDOR_PREFIX = f"/docs/asyncapi/vendor/{VERSION}"
RENDER_SCRIPT = "render.js"
PAGE_STYLESHEET = "page.css"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-eval'; "  # the bundled AsyncAPI parser compiles JSON schemas (ajv)
    "style-src 'self' 'unsafe-inline'; "  # React sets style attributes
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Only this origin may serve scripts, styles, images and fetches: the browser itself refuses a CDN."""


def _relative(path: str) -> str:
    """`path` relative to the page (/docs/asyncapi's folder is /docs/), so a path prefix still works."""
    return path.removeprefix("/docs/")


def page_html(title: str) -> str:
    """The docs page for the document titled `title`."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · AsyncAPI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{_relative(VENDOR_PREFIX)}/{STYLESHEET}">
<link rel="stylesheet" href="{_relative(STATIC_PREFIX)}/{PAGE_STYLESHEET}">
</head>
<body>
<noscript>This page renders the AsyncAPI document with JavaScript; the document itself is at
<a href="{_relative(SCHEMA_PATH)}">{_relative(SCHEMA_PATH)}</a>.</noscript>
<div id="asyncapi" data-schema-url="{_relative(SCHEMA_PATH)}">Loading the AsyncAPI document…</div>
<script src="{_relative(VENDOR_PREFIX)}/{BUNDLE}"></script>
<script src="{_relative(STATIC_PREFIX)}/{RENDER_SCRIPT}"></script>
</body>
</html>
"""

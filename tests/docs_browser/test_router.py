"""The docs router over real HTTP (granian): content types, cache headers, 404s, conditional requests, a
page that references only its own origin, and the schema generated from the registry."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from gordon.paths import ROOT
from registry.asyncapi import build, render
from schemas import REGISTRY
from services.manager.api.docs import create_docs_app
from services.manager.api.docs.vendored import VERSION
from tests.browser.serving import serve_asgi_app

from .client import fetch

PAGE = "/docs/asyncapi"
VENDOR = f"/docs/asyncapi/vendor/{VERSION}"
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    async with serve_asgi_app(create_docs_app()) as url:
        yield url


class _References(HTMLParser):
    """Every src and href in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


@pytest.mark.parametrize(
    ("path", "media_type", "cache"),
    [
        (PAGE, "text/html; charset=utf-8", REVALIDATE),
        ("/docs/asyncapi.yaml", "application/yaml; charset=utf-8", REVALIDATE),
        ("/docs/asyncapi/static/render.js", "text/javascript; charset=utf-8", REVALIDATE),
        ("/docs/asyncapi/static/page.css", "text/css; charset=utf-8", REVALIDATE),
        (f"{VENDOR}/index.js", "text/javascript; charset=utf-8", IMMUTABLE),
        (f"{VENDOR}/default.min.css", "text/css; charset=utf-8", IMMUTABLE),
        (f"{VENDOR}/LICENSE", "text/plain; charset=utf-8", IMMUTABLE),
        (f"{VENDOR}/index.js.LICENSE.txt", "text/plain; charset=utf-8", IMMUTABLE),
    ],
)
async def test_each_file_has_its_content_type_and_cache_policy(
    base_url: str, path: str, media_type: str, cache: str
) -> None:
    reply = await fetch(base_url + path)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == media_type
    assert reply.headers["Cache-Control"] == cache
    assert reply.headers["ETag"].startswith('"')
    assert int(reply.headers["Content-Length"]) == len(reply.body) > 0


@pytest.mark.parametrize(
    "path",
    [
        "/docs/asyncapi/static/missing.js",
        f"{VENDOR}/SHA256SUMS",
        f"{VENDOR}/VENDORED.md",
        f"{VENDOR}/without-parser.js",
        "/docs/asyncapi/vendor/0.0.0/index.js",
        "/docs/asyncapi/static/..%2Fvendored.py",
        "/docs/asyncapi.json",
    ],
)
async def test_unknown_files_are_404(base_url: str, path: str) -> None:
    reply = await fetch(base_url + path)
    assert reply.status == 404


async def test_404_names_the_files_there_are(base_url: str) -> None:
    reply = await fetch(f"{base_url}/docs/asyncapi/static/missing.js")
    assert b"render.js" in reply.body


async def test_page_references_only_its_own_origin_and_every_reference_loads(base_url: str) -> None:
    page_url = base_url + PAGE
    reply = await fetch(page_url)
    parser = _References()
    parser.feed(reply.body.decode("utf-8"))
    assert any(url.endswith("index.js") for url in parser.urls)
    for url in parser.urls:
        if url.startswith("data:"):
            continue
        parts = urlsplit(url)
        assert not parts.scheme, f"{url} names a scheme: the page must load from its own origin"
        assert not parts.netloc, f"{url} names a host: the page must load from its own origin"
        assert (await fetch(urljoin(page_url, url))).status == 200, f"{url} does not load"


async def test_page_forbids_other_origins_by_content_security_policy(base_url: str) -> None:
    policy = (await fetch(base_url + PAGE)).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "img-src", "connect-src"):
        sources = directives[name].split()
        assert "'self'" in sources
        assert all(source.startswith("'") or source in {"data:"} for source in sources), policy


async def test_schema_is_the_registrys_generated_document(base_url: str) -> None:
    served = (await fetch(f"{base_url}/docs/asyncapi.yaml")).body.decode("utf-8")
    assert served == render(build(REGISTRY))
    assert served == (ROOT / "asyncapi.yaml").read_text(encoding="utf-8"), (
        "asyncapi.yaml is stale: run `gordon asyncapi`"
    )


async def test_a_known_etag_gets_304_and_head_gets_no_body(base_url: str) -> None:
    url = f"{base_url}{VENDOR}/index.js"
    etag = (await fetch(url)).headers["ETag"]
    again = await fetch(url, headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""
    other = await fetch(url, headers={"If-None-Match": '"something-else"'})
    assert other.status == 200
    head = await fetch(url, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["ETag"] == etag


async def test_root_redirects_to_the_page(base_url: str) -> None:
    reply = await fetch(base_url + "/")
    assert reply.status == 307
    assert urljoin(base_url + "/", reply.headers["Location"]) == base_url + PAGE


async def test_nats_host_is_the_documents_server(base_url: str) -> None:
    async with serve_asgi_app(create_docs_app("nats.example:4222")) as other:
        served = (await fetch(f"{other}/docs/asyncapi.yaml")).body.decode("utf-8")
    assert "host: nats.example:4222" in served


async def test_gzip_when_accepted_with_its_own_etag(base_url: str) -> None:
    url = f"{base_url}{VENDOR}/index.js"
    plain = await fetch(url)
    packed = await fetch(url, headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.body) == plain.body
    assert len(packed.body) < len(plain.body) / 3
    assert packed.headers["ETag"] != plain.headers["ETag"]
    assert plain.headers["Vary"] == "Accept-Encoding"
    assert "Content-Encoding" not in plain.headers
    again = await fetch(url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status == 304
    refused = await fetch(url, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    assert refused.body == plain.body


async def test_small_files_are_not_compressed(base_url: str) -> None:
    reply = await fetch(base_url + PAGE, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in reply.headers
    assert "Vary" not in reply.headers

"""In-memory HTTP assets with their content type, a strong ETag, a cache policy and a gzip copy;
conditional GETs get 304."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from fastapi import Request, Response

GZIP_MIN_BYTES = 1024
REVALIDATE = "no-cache"
"""Pages, our script and the schema: cache, but ask the server each time (a 304 is cheap)."""
IMMUTABLE = "public, max-age=31536000, immutable"
"""Vendored files: their URL carries the package version, so a given URL never changes."""

MEDIA_TYPES: Mapping[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".yaml": "application/yaml; charset=utf-8",
    "": "text/plain; charset=utf-8",
}
"""By suffix; a suffix-less file (LICENSE) is plain text."""


@dataclass(frozen=True)
class Asset:
    """A response body held in memory, with the headers it is always served with; a gzip copy is made
    on first use for browsers that accept it (the bundle shrinks about fourfold)."""

    body: bytes
    media_type: str
    cache_control: str
    extra_headers: Mapping[str, str]

    @cached_property
    def etag(self) -> str:
        """A strong validator: the body's SHA-256, quoted."""
        return f'"{hashlib.sha256(self.body).hexdigest()}"'

    @cached_property
    def gzipped(self) -> bytes | None:
        """The body gzip-compressed, or None when it is too small for that to pay (made off the event
        loop on first use: the bundle takes tens of milliseconds)."""
        if len(self.body) < GZIP_MIN_BYTES:
            return None
        return gzip.compress(self.body, compresslevel=6, mtime=0)

    async def respond(self, request: Request) -> Response:
        """200 with the body (gzip when accepted), or 304 when If-None-Match already names its ETag."""
        body, etag = self.body, self.etag
        headers = {"Cache-Control": self.cache_control, **self.extra_headers}
        if "gzipped" not in self.__dict__:  # not made yet: make it off the loop
            await asyncio.to_thread(lambda: self.gzipped)
        gzipped = self.gzipped
        if gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
            if accepts_gzip(request.headers.get("accept-encoding", "")):
                body, etag = gzipped, f'{etag[:-1]}-gzip"'
                headers["Content-Encoding"] = "gzip"
        headers["ETag"] = etag
        tags = _tags(request.headers.get("if-none-match", ""))
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
        response = Response(
            b"" if request.method == "HEAD" else body, media_type=self.media_type, headers=headers
        )
        response.headers["Content-Length"] = str(len(body))
        return response


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (named or `*`, with a q-value above 0)."""
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in {"gzip", "*"}:
            quality = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def text_asset(
    text: str, media_type: str, cache_control: str = REVALIDATE, headers: Mapping[str, str] | None = None
) -> Asset:
    """An asset from text (encoded as UTF-8)."""
    return Asset(text.encode("utf-8"), media_type, cache_control, dict(headers or {}))


def file_asset(path: Path, cache_control: str) -> Asset:
    """An asset from a file, its content type from the suffix."""
    return Asset(path.read_bytes(), MEDIA_TYPES[path.suffix], cache_control, {})


def _tags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compare by their opaque part)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}

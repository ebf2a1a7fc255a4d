"""In-memory HTTP assets with their content type, a strong ETag and a cache policy; conditional GETs
get 304."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request, Response

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
    """A response body held in memory, with the headers it is always served with."""

    body: bytes
    media_type: str
    cache_control: str
    extra_headers: Mapping[str, str]

    @property
    def etag(self) -> str:
        """A strong validator: the body's SHA-256, quoted."""
        return f'"{hashlib.sha256(self.body).hexdigest()}"'

    def respond(self, request: Request) -> Response:
        """200 with the body, or 304 when the browser's If-None-Match already names this ETag."""
        etag = self.etag
        headers = {"ETag": etag, "Cache-Control": self.cache_control, **self.extra_headers}
        tags = _tags(request.headers.get("if-none-match", ""))
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
        body = b"" if request.method == "HEAD" else self.body
        response = Response(body, media_type=self.media_type, headers=headers)
        response.headers["Content-Length"] = str(len(self.body))
        return response


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

"""Plain HTTP GETs for the docs tests (urllib in a thread, no redirects followed) against a real server."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message


@dataclass(frozen=True)
class Reply:
    """Status, headers and body of one HTTP exchange."""

    status: int
    headers: Message
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _fetch(url: str, method: str, headers: dict[str, str]) -> Reply:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with opener.open(request, timeout=30) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


async def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Reply:
    """One request to `url`, off the event loop (the server under test runs on it)."""
    return await asyncio.to_thread(_fetch, url, method, headers or {})

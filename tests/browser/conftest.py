"""Browser fixtures: Debian's Chromium driven by Playwright, a probe of what a page did, and ASGI apps
served by real granian on a free loopback port.

Playwright never downloads a browser here: it launches /usr/bin/chromium (`make browser` installs it;
GORDON_CHROMIUM names another binary). Screenshots and other artefacts go to
test-output/<test module>/<test name>/ at the project root (gitignored; emptied when the test starts).
The served app runs on the test's own event loop, so a test can share objects with it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Request, Response, async_playwright

from .serving import serve_asgi_app

CHROMIUM = Path(os.environ.get("GORDON_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT_ROOT = Path(__file__).resolve().parents[2] / "test-output"
"""Per-test artefacts (screenshots) live under here: test-output/<module>/<test>/."""

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

ServeAsgi = Callable[[Any], AbstractAsyncContextManager[str]]


@dataclass
class PageProbe:
    """A page and what it did: every request, the failed ones (network errors and HTTP >= 400),
    console errors and uncaught exceptions."""

    page: Page
    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    aborted_by_reload: list[str] = field(default_factory=list)
    _reloading: bool = False

    async def reload(self) -> None:
        """Reload the page: the requests the old document still had in flight end as net::ERR_ABORTED,
        which is the navigation's doing, not a failure of the page (kept apart in `aborted_by_reload`)."""
        self._reloading = True
        try:
            await self.page.reload()
        finally:
            self._reloading = False

    async def goto(self, url: str) -> None:
        """Leave the page for `url`: what the old document had in flight is aborted as by a reload."""
        self._reloading = True
        try:
            await self.page.goto(url)
        finally:
            self._reloading = False

    def attach(self) -> None:
        """Start recording the page's events."""
        self.page.on("request", self._on_request)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def external_requests(self) -> list[str]:
        """Requests whose host is not the loopback interface (data: and blob: URLs are local)."""
        return [url for url in self.requests if _leaves_machine(url)]

    def problems(self) -> list[str]:
        """Everything that should not happen on a healthy page, one line each."""
        return (
            [f"failed request: {line}" for line in self.failed_requests]
            + [f"console error: {line}" for line in self.console_errors]
            + [f"page error: {line}" for line in self.page_errors]
            + [f"request leaves the machine: {url}" for url in self.external_requests()]
        )

    def assert_clean(self) -> None:
        """Fail listing every failed request, console error, page error and external request."""
        problems = self.problems()
        assert not problems, "the page misbehaved:\n" + "\n".join(problems)

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _on_request_failed(self, request: Request) -> None:
        line = f"{request.method} {request.url}: {request.failure}"
        if self._reloading and request.failure == "net::ERR_ABORTED":
            self.aborted_by_reload.append(line)
        else:
            self.failed_requests.append(line)

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.request.method} {response.url}: HTTP {response.status}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location
            self.console_errors.append(
                f"{message.text} ({location.get('url', '')}:{location.get('lineNumber')})"
            )


def _leaves_machine(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about", "chrome-error"}:
        return False
    return (parts.hostname or "") not in LOCAL_HOSTS


def _require_chromium() -> None:
    """Fail the test with the fix when the Chromium binary is missing (never download one)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser` to install Debian's chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's headless Chromium (a fresh profile per test); fails clearly when it is not installed."""
    _require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def probe(browser: Browser) -> AsyncIterator[PageProbe]:
    """A new page in its own context, recording requests, failures and console errors from the start."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    found = PageProbe(await context.new_page())
    found.attach()
    try:
        yield found
    finally:
        await context.close()


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """This test's artefact folder, test-output/<module>/<test name>/, emptied first."""
    module = Path(str(request.node.path)).stem
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    folder = OUTPUT_ROOT / module / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


async def save_screenshot(page: Page, folder: Path, name: str) -> Path:
    """A full-page PNG of `page` at folder/<name>.png; returns its path."""
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0, f"empty screenshot at {path}"
    return path


@pytest.fixture
def serve_asgi() -> ServeAsgi:
    """`async with serve_asgi(app) as base_url:` serves `app` with real granian for the test's pages."""
    return serve_asgi_app

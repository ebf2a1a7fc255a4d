"""The browser harness itself: granian serves an app, the probe records what went wrong, screenshots land
in the test's output folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from .conftest import OUTPUT_ROOT, PageProbe, ServeAsgi, save_screenshot

pytestmark = pytest.mark.browser

CLEAN = "<!doctype html><html><head><link rel='icon' href='data:,'></head><body><h1>ok</h1></body></html>"
BROKEN = (
    "<!doctype html><html><head><link rel='icon' href='data:,'></head><body><h1>broken</h1>"
    "<img src='/missing.png'><script>console.error('deliberate')</script></body></html>"
)


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/clean", response_class=HTMLResponse)
    async def clean() -> str:
        return CLEAN

    @app.get("/broken", response_class=HTMLResponse)
    async def broken() -> str:
        return BROKEN

    return app


async def test_clean_page_has_no_problems_and_is_screenshotted(
    probe: PageProbe, serve_asgi: ServeAsgi, output_dir: Path
) -> None:
    async with serve_asgi(_app()) as base_url:
        await probe.page.goto(f"{base_url}/clean")
        assert await probe.page.inner_text("h1") == "ok"
        shot = await save_screenshot(probe.page, output_dir, "clean")
    probe.assert_clean()
    assert shot.parent == output_dir
    assert output_dir.is_relative_to(OUTPUT_ROOT)
    assert shot.read_bytes().startswith(b"\x89PNG")


async def test_probe_records_http_errors_and_console_errors(probe: PageProbe, serve_asgi: ServeAsgi) -> None:
    async with serve_asgi(_app()) as base_url:
        await probe.page.goto(f"{base_url}/broken")
        await probe.page.wait_for_load_state("load")
    problems = "\n".join(probe.problems())
    assert "/missing.png: HTTP 404" in problems
    assert "deliberate" in problems
    with pytest.raises(AssertionError, match=r"missing\.png"):
        probe.assert_clean()


async def test_probe_flags_requests_that_leave_the_machine(probe: PageProbe) -> None:
    await probe.page.route("**/*", lambda route: route.fulfill(status=200, body="<p>stub</p>"))
    await probe.page.goto("http://example.invalid/page")
    assert probe.external_requests() == ["http://example.invalid/page"]

"""The vendored lightweight-charts files still match SHA256SUMS, VENDORED.md records the version and
integrity the code uses, and the manager serves them (with the licence) under the versioned URL the
operator page names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.manager.api import charts
from services.manager.api.live.router import STATIC
from tests.manager_api.conftest import Api

MANIFEST = charts.VENDOR_DIR / "VENDORED.md"


def test_vendored_files_match_their_recorded_sha256_and_nothing_else_is_pinned() -> None:
    assert charts.verify() == []
    assert sorted(line.split()[1] for line in charts.CHECKSUMS.read_text().splitlines()) == sorted(
        charts.SERVED
    )


def test_manifest_records_package_version_integrity_and_refresh_command() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    assert f"| version | {charts.VERSION} |" in text
    assert charts.INTEGRITY in text
    assert f'npm pack "{charts.PACKAGE}@$VERSION"' in text
    assert f"VERSION={charts.VERSION}" in text
    licence = (charts.VENDOR_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence
    head = (charts.VENDOR_DIR / charts.SCRIPT).read_text(encoding="utf-8")[:300]
    assert f"TradingView Lightweight Charts™ v{charts.VERSION}" in head


def test_the_page_loads_the_vendored_script_and_credits_it() -> None:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert f'<script src="{charts.URL_PREFIX}/{charts.SCRIPT}" defer></script>' in page
    assert "TradingView Lightweight Charts™" in page
    assert 'href="https://www.tradingview.com/"' in page


def test_a_changed_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "vendor"
    shutil.copytree(charts.VENDOR_DIR, copy)
    with (copy / charts.SCRIPT).open("a", encoding="utf-8") as script:
        script.write("// edited by hand\n")
    (copy / "LICENSE").unlink()
    monkeypatch.setattr(charts, "VENDOR_DIR", copy)
    monkeypatch.setattr(charts, "CHECKSUMS", copy / "SHA256SUMS")
    problems = charts.verify()
    assert any(p.startswith(f"{charts.SCRIPT}: sha256 differs") for p in problems), problems
    assert any(p.startswith("LICENSE: missing") for p in problems), problems


async def test_the_manager_serves_them_for_good_and_names_what_exists(api: Api) -> None:
    r = await api.get(f"{charts.URL_PREFIX}/{charts.SCRIPT}")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.headers["Content-Type"].startswith("text/javascript")
    assert r.content == (charts.VENDOR_DIR / charts.SCRIPT).read_bytes()
    assert (await api.get(f"{charts.URL_PREFIX}/LICENSE")).status_code == 200
    r = await api.get(f"{charts.URL_PREFIX}/SHA256SUMS")
    assert r.status_code == 404
    assert r.json()["detail"].endswith(f"there are: LICENSE, {charts.SCRIPT}")
    r = await api.get("/operator/nope.js")
    assert r.status_code == 404
    assert "app.js, charts.js, format.js, style.css" in r.json()["detail"]

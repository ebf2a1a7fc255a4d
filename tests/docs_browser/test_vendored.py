"""The vendored @asyncapi/react-component files still match SHA256SUMS, VENDORED.md records the version and
tarball integrity the code uses, and the licences are there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.manager.api.docs import vendored

MANIFEST = vendored.VENDOR_DIR / "VENDORED.md"


def test_vendored_files_match_their_recorded_sha256() -> None:
    assert vendored.verify() == []


def test_checksums_pin_exactly_the_served_files() -> None:
    assert sorted(vendored.recorded_checksums()) == sorted(vendored.SERVED)


def test_manifest_records_package_version_integrity_and_refresh_command() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    assert vendored.PACKAGE in text
    assert f"| version | {vendored.VERSION} |" in text
    assert vendored.INTEGRITY in text
    assert f'npm pack "{vendored.PACKAGE}@$VERSION"' in text
    assert f"VERSION={vendored.VERSION}" in text


def test_licences_are_vendored_beside_the_bundle() -> None:
    licence = (vendored.VENDOR_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence
    assert "Version 2.0" in licence
    bundle_head = (vendored.VENDOR_DIR / vendored.BUNDLE).read_bytes()[:200].decode("utf-8")
    assert "For license information please see index.js.LICENSE.txt" in bundle_head
    assert "index.js.LICENSE.txt" in vendored.LICENCES


def test_a_changed_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "vendor"
    shutil.copytree(vendored.VENDOR_DIR, copy)
    with (copy / vendored.STYLESHEET).open("a", encoding="utf-8") as stylesheet:
        stylesheet.write("/* edited by hand */\n")
    (copy / "LICENSE").unlink()
    monkeypatch.setattr(vendored, "VENDOR_DIR", copy)
    monkeypatch.setattr(vendored, "CHECKSUMS", copy / "SHA256SUMS")
    problems = vendored.verify()
    assert any(p.startswith(f"{vendored.STYLESHEET}: sha256 differs") for p in problems), problems
    assert any(p.startswith("LICENSE: missing") for p in problems), problems

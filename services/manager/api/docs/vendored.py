"""The vendored @asyncapi/react-component files (standalone bundle, CSS, licences) and their checksums.

They are third-party files copied from the npm package, not generated: vendor/asyncapi-react-component/
VENDORED.md says how to refresh them, SHA256SUMS pins their content and `verify()` reports any drift.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE = "@asyncapi/react-component"
VERSION = "3.2.1"
INTEGRITY = "sha512-k5ZqJd6+oxYaQ2o6F3rGWJ1MTIjXdpsUYB3NKQbVqr4yzrN0Ovj5c7eZx8NGd3wfKPhbOrLREtYl9K2OPfnSsA=="
"""The npm tarball's integrity (`npm view @asyncapi/react-component@3.2.1 dist.integrity`)."""

VENDOR_DIR = Path(__file__).resolve().parent / "vendor" / "asyncapi-react-component"
CHECKSUMS = VENDOR_DIR / "SHA256SUMS"
BUNDLE = "index.js"
STYLESHEET = "default.min.css"
LICENCES = ("LICENSE", "index.js.LICENSE.txt")
SERVED = (BUNDLE, STYLESHEET, *LICENCES)
"""The vendored files the docs router serves (the bundle names its licence file beside itself)."""


def recorded_checksums() -> dict[str, str]:
    """SHA256SUMS as {file name: hex digest} (`sha256sum` format: '<digest>  <name>' per line)."""
    recorded: dict[str, str] = {}
    for line in CHECKSUMS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            recorded[name.lstrip("*")] = digest
    return recorded


def sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify() -> list[str]:
    """One line per problem: a served file not pinned in SHA256SUMS, missing, or changed since pinned."""
    recorded = recorded_checksums()
    problems = [f"{name}: not listed in {CHECKSUMS.name}" for name in SERVED if name not in recorded]
    for name, digest in sorted(recorded.items()):
        path = VENDOR_DIR / name
        if not path.is_file():
            problems.append(f"{name}: missing from {VENDOR_DIR}")
        elif sha256(path) != digest:
            problems.append(f"{name}: sha256 differs from {CHECKSUMS.name}: re-vendor it (see VENDORED.md)")
    return problems

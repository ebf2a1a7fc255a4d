"""The vendored @asyncapi/react-component files (standalone bundle, CSS, licences) and their checksums.

They are third-party files copied from the npm package, not generated: vendor/asyncapi-react-component/
VENDORED.md says how to refresh them, SHA256SUMS pins their content and `verify()` reports any drift.
"""

from __future__ import annotations

from pathlib import Path

from services.manager.api import vendoring

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
    """SHA256SUMS as {file name: hex digest}."""
    return vendoring.recorded_checksums(CHECKSUMS)


def verify() -> list[str]:
    """One line per problem: a served file not pinned in SHA256SUMS, missing, or changed since pinned."""
    return vendoring.verify(VENDOR_DIR, CHECKSUMS, SERVED)

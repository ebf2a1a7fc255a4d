"""The vendored TradingView Lightweight Charts™ bundle the operator page draws its charts with.

Third-party files copied from the npm package, not generated: vendor/lightweight-charts/VENDORED.md says
how to refresh them, SHA256SUMS pins their content and `verify()` reports any drift. The page loads the
standalone build (one script, no stylesheet, no requests of its own) from this app only.
"""

from __future__ import annotations

from pathlib import Path

from services.manager.api import vendoring

PACKAGE = "lightweight-charts"
VERSION = "5.2.1"
INTEGRITY = "sha512-IVwoK1RLFiLPubaKIjNbtjWLnpPMqiABSrTay6whmNa8L1+19292VtHJ+BWyPUuLCwF0tcQlhEWd1CLB2a1nsQ=="
"""The npm tarball's integrity (`npm view lightweight-charts@5.2.1 dist.integrity`)."""

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor" / "lightweight-charts"
CHECKSUMS = VENDOR_DIR / "SHA256SUMS"
SCRIPT = "lightweight-charts.standalone.production.js"
LICENCES = ("LICENSE",)
SERVED = (SCRIPT, *LICENCES)
URL_PREFIX = f"/operator/vendor/{PACKAGE}-{VERSION}"
"""Where the page loads them from: the version is in the URL, so a given URL never changes."""


def verify() -> list[str]:
    """One line per problem: a served file not pinned in SHA256SUMS, missing, or changed since pinned."""
    return vendoring.verify(VENDOR_DIR, CHECKSUMS, SERVED)

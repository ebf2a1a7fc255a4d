"""Checks of third-party files copied from npm packages (the docs browser's component, the operator page's
charts): each folder pins its files in a `sha256sum`-format SHA256SUMS, and `verify` reports any drift."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def recorded_checksums(checksums: Path) -> dict[str, str]:
    """A SHA256SUMS file as {file name: hex digest} ('<digest>  <name>' per line)."""
    recorded: dict[str, str] = {}
    for line in checksums.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            recorded[name.lstrip("*")] = digest
    return recorded


def sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(vendor_dir: Path, checksums: Path, served: Iterable[str]) -> list[str]:
    """One line per problem: a served file not pinned in `checksums`, missing, or changed since pinned."""
    recorded = recorded_checksums(checksums)
    problems = [f"{name}: not listed in {checksums.name}" for name in served if name not in recorded]
    for name, digest in sorted(recorded.items()):
        path = vendor_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing from {vendor_dir}")
        elif sha256(path) != digest:
            problems.append(f"{name}: sha256 differs from {checksums.name}: re-vendor it (see VENDORED.md)")
    return problems

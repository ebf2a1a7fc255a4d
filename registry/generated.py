"""Files generated from the registry: written only when their text changes, and diffed when stale.

Every generator (typed channels, subscribers, asyncapi.yaml, outbox policies, NATS authorization) checks
its checked-in file the same way, so `--check` reads alike everywhere.
"""

from __future__ import annotations

import difflib
from pathlib import Path


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` to `path` unless it already holds it; True when written (a missing folder is an OSError).

    An unchanged file keeps its modification time, so tools watching it see no change.
    """
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def staleness(path: Path, wanted: str, shown: str) -> str:
    """A unified diff from the file at `path` (missing: empty) to `wanted`; empty when current."""
    current = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    if current == wanted:
        return ""
    return "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            wanted.splitlines(keepends=True),
            f"{shown} (on disk)",
            f"{shown} (from the registry)",
        )
    )

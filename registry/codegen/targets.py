"""The generated files, and how to write them or check them for staleness."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registry.codegen.channels import render_channels
from registry.codegen.render import format_python
from registry.codegen.subscribers import render_subscribers
from registry.registry import Registry


@dataclass(frozen=True)
class Target:
    """A generated file: its path relative to the project root and its renderer."""

    path: str
    render: Callable[[Registry], str]


TARGETS = (
    Target("producers/channels.py", render_channels),
    Target("consumers/subscribers.py", render_subscribers),
)


def write(registry: Registry, root: Path) -> list[str]:
    """Write every target under `root`; returns the paths that changed."""
    changed = []
    for target in TARGETS:
        path = root / target.path
        text = format_python(target.render(registry), target.path)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(target.path)
    return changed


def stale(registry: Registry, root: Path) -> dict[str, str]:
    """Path -> unified diff for each target whose file differs from what the registry generates."""
    out = {}
    for target in TARGETS:
        path = root / target.path
        current = path.read_text() if path.exists() else ""
        wanted = format_python(target.render(registry), target.path)
        if current != wanted:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                wanted.splitlines(keepends=True),
                f"{target.path} (on disk)",
                f"{target.path} (from the registry)",
            )
            out[target.path] = "".join(diff)
    return out

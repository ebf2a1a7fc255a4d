"""The generated files, and how to write them or check them for staleness."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registry.codegen.channels import render_channels
from registry.codegen.render import format_python
from registry.codegen.subscribers import render_subscribers
from registry.generated import staleness, write_if_changed
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
    return [
        target.path
        for target in TARGETS
        if write_if_changed(root / target.path, format_python(target.render(registry), target.path))
    ]


def stale(registry: Registry, root: Path) -> dict[str, str]:
    """Path -> unified diff for each target whose file differs from what the registry generates."""
    out = {}
    for target in TARGETS:
        wanted = format_python(target.render(registry), target.path)
        if diff := staleness(root / target.path, wanted, target.path):
            out[target.path] = diff
    return out

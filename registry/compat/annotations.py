"""Documentation keywords: a changed description, title, default, examples or deprecation only warns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from registry.compat.context import Context
from registry.compat.kinds import value_key

_RULES: Final = (
    ("description", "C401"),
    ("title", "C402"),
    ("default", "C403"),
    ("examples", "C404"),
    ("deprecated", "C405"),
)
_ABSENT: Final = object()


def compare_annotations(
    ctx: Context,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    path: str,
    *,
    with_default: bool,
) -> None:
    """Emit a warning per annotation that differs; `default` only when `with_default` (a field that
    became required or optional is reported by its own rule, and its default changes with it)."""
    for key, rule in _RULES:
        if key == "default" and not with_default:
            continue
        before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if before is _ABSENT and after is _ABSENT:
            continue
        if before is not _ABSENT and after is not _ABSENT and value_key(before) == value_key(after):
            continue
        verb = "added" if before is _ABSENT else "removed" if after is _ABSENT else "changed"
        ctx.emit(
            rule,
            path,
            f"{key} {verb}",
            None if before is _ABSENT else before,
            None if after is _ABSENT else after,
        )

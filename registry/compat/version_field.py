"""The `schema_version` field: what a declared version's schema must say, and what no revision may change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from registry.compat.context import Context
from registry.compat.jsonschema_walk import resolve
from registry.compat.kinds import base_type, value_key, value_set

VERSION_FIELD: Final = "schema_version"


def version_view(schema: Mapping[str, Any]) -> object:
    """What a `schema_version` node says: its constant, else its type name."""
    values = value_set(schema)
    if values is not None and len(values) == 1:
        return values[0]
    return base_type(schema)


def is_version_constant(node: Any, root: Mapping[str, Any], version: int) -> bool:
    """Is `node` the non-null integer constant `version` (a `Literal[version]`; `True` is not 1)?"""
    shape = resolve(node, root)
    values = value_set(shape.schema)
    return (
        values is not None
        and len(values) == 1
        and type(values[0]) is int
        and values[0] == version
        and base_type(shape.schema) == "integer"
        and not shape.nullable
    )


def compare_version_field(ctx: Context, old: Any, new: Any, path: str) -> None:
    """`schema_version` keeps its type and constant across revisions of one version (C105)."""
    before, after = resolve(old, ctx.old_root), resolve(new, ctx.new_root)
    old_view, new_view = version_view(before.schema), version_view(after.schema)
    if value_key(old_view) != value_key(new_view) or before.nullable != after.nullable:
        ctx.emit("C105", path, f"{VERSION_FIELD} retyped or changed", old_view, new_view)


def report_version_removed(ctx: Context, old: Any, path: str) -> None:
    """A revision that drops `schema_version` (C104): consumers could no longer dispatch on it."""
    ctx.emit("C104", path, f"{VERSION_FIELD} removed", version_view(resolve(old, ctx.old_root).schema))

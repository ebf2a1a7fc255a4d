"""Field rules of one object: removed, renamed, added (required or out of place), reordered,
required-ness changed; common fields are handed back to the type comparison."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final, Protocol

from registry.compat.context import Context
from registry.compat.findings import Severity
from registry.compat.jsonschema_walk import resolve
from registry.compat.kinds import label
from registry.compat.version_field import VERSION_FIELD, compare_version_field, report_version_removed

_PLAIN_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CompareFn(Protocol):
    """The node comparison (in `diff.py`) that fields recurse into."""

    def __call__(self, ctx: Context, old: Any, new: Any, path: str, *, with_default: bool = True) -> None: ...


def child_path(path: str, name: str) -> str:
    """The JSON path of property `name` under `path`: `$.qty`, or `$["odd key"]`."""
    if _PLAIN_NAME.fullmatch(name):
        return f"{path}.{name}"
    return f"{path}[{json.dumps(name)}]"


def compare_fields(
    ctx: Context,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    path: str,
    compare: CompareFn,
) -> None:
    """All field rules between two object nodes, in old field order, then new fields in new order."""
    old_props: Mapping[str, Any] = old.get("properties") or {}
    new_props: Mapping[str, Any] = new.get("properties") or {}
    old_required = set(old.get("required") or ())
    new_required = set(new.get("required") or ())
    old_names, new_names = list(old_props), list(new_props)
    at_root = path == "$"
    renames = _renames(ctx, old_props, new_props, path, compare, at_root)

    for name in old_names:
        where = child_path(path, name)
        if name in renames:
            target = renames[name]
            ctx.emit("C202", where, f"field {name!r} renamed to {target!r}", name, target)
        elif name not in new_props:
            if at_root and name == VERSION_FIELD:
                report_version_removed(ctx, old_props[name], where)
            else:
                removed = label(resolve(old_props[name], ctx.old_root))
                ctx.emit("C201", where, f"field {name!r} removed", removed)
        elif at_root and name == VERSION_FIELD:
            compare_version_field(ctx, old_props[name], new_props[name], where)
        else:
            was, now = name in old_required, name in new_required
            if now and not was:
                ctx.emit("C311", where, f"field {name!r} is now required", "optional", "required")
            elif was and not now:
                ctx.emit("C312", where, f"field {name!r} is now optional", "required", "optional")
            compare(ctx, old_props[name], new_props[name], where, with_default=not (was or now))

    kept = [i for i, n in enumerate(new_names) if n in old_props or n in renames.values()]
    last_kept = kept[-1] if kept else -1
    for index, name in enumerate(new_names):
        if name in old_props or name in renames.values():
            continue
        if at_root and name == VERSION_FIELD:
            continue  # a schema without it was invalid already; `check_schema` reports placement
        where = child_path(path, name)
        if name in new_required:
            added = label(resolve(new_props[name], ctx.new_root))
            ctx.emit("C203", where, f"new field {name!r} is required", None, added)
        if index < last_kept:
            before = new_names[last_kept]
            message = f"new field {name!r} inserted before existing field {before!r}"
            ctx.emit("C204", where, message, None, index)

    old_order = [n for n in old_names if n in new_props or n in renames]
    new_order = [_old_name(n, renames) for n in new_names]
    new_order = [n for n in new_order if n in old_order]
    if old_order != new_order:
        ctx.emit("C205", path, "existing fields changed order", old_order, new_order)


def _renames(
    ctx: Context,
    old_props: Mapping[str, Any],
    new_props: Mapping[str, Any],
    path: str,
    compare: CompareFn,
    at_root: bool,
) -> dict[str, str]:
    """Removed fields whose position holds an added field of the same type: old name -> new name."""
    old_names, new_names = list(old_props), list(new_props)
    found: dict[str, str] = {}
    for index, name in enumerate(old_names):
        if name in new_props or (at_root and name == VERSION_FIELD) or index >= len(new_names):
            continue
        candidate = new_names[index]
        if candidate in old_props or (at_root and candidate == VERSION_FIELD):
            continue
        trial = ctx.scratch()
        compare(trial, old_props[name], new_props[candidate], path, with_default=False)
        if not any(f.severity is Severity.ERROR for f in trial.findings):
            found[name] = candidate
    return found


def _old_name(name: str, renames: Mapping[str, str]) -> str:
    for old, new in renames.items():
        if new == name:
            return old
    return name

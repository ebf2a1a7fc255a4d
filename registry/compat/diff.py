"""`diff_revision`: compare a locked revision of a payload schema with the current one, node by node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.compat.annotations import compare_annotations
from registry.compat.constraints import compare_constraints
from registry.compat.context import Context
from registry.compat.fields import compare_fields
from registry.compat.findings import Finding, Severity
from registry.compat.jsonschema_walk import UNION_KEYS, Shape, resolve
from registry.compat.kinds import base_type, direction, label, value_key, value_set

_NUMERIC = frozenset({"integer", "number"})


def diff_revision(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    subject: str,
    version: int,
    open_enums: bool = False,
) -> list[Finding]:
    """Every finding between a locked revision `old` and the current schema `new` of one version.

    `open_enums=True` says the consumers accept enum values they do not know: an added value then
    warns instead of breaking. Findings come in schema order, so the same inputs give the same list.
    """
    ctx = Context(subject=subject, version=version, old_root=old, new_root=new, open_enums=open_enums)
    compare_nodes(ctx, old, new, "$")
    return list(ctx.findings)


def compare_nodes(ctx: Context, old: Any, new: Any, path: str, *, with_default: bool = True) -> None:
    """Compare two schema nodes at data path `path`: null-ness, type and contents, then annotations."""
    before, after = resolve(old, ctx.old_root), resolve(new, ctx.new_root)
    if before.nullable and not after.nullable:
        ctx.emit("C313", path, "null is no longer accepted", label(before), label(after))
    elif after.nullable and not before.nullable:
        ctx.emit("C314", path, "null is now accepted", label(before), label(after))
    if _recursing(ctx, before, after):
        return  # this pair of $defs is being compared further up, annotations included
    _compare_guarded(ctx, before, after, path)
    compare_annotations(ctx, before.annotations, after.annotations, path, with_default=with_default)


def _recursing(ctx: Context, before: Shape, after: Shape) -> bool:
    """Is this pair of `$defs` already being compared further up (a recursive model)?"""
    return bool(before.refs or after.refs) and (before.refs, after.refs) in ctx.active


def _compare_guarded(ctx: Context, before: Shape, after: Shape, path: str) -> None:
    """Compare cores unless recursing; the pair stays marked while its contents are compared."""
    if _recursing(ctx, before, after):
        return
    ctx.active.append((before.refs, after.refs))
    try:
        _compare_cores(ctx, before, after, path)
    finally:
        ctx.active.pop()


def _compare_cores(ctx: Context, before: Shape, after: Shape, path: str) -> None:
    old, new = before.schema, after.schema
    old_values, new_values = value_set(old), value_set(new)
    if old_values is not None and new_values is not None:
        _compare_values(ctx, old_values, new_values, path)
        return
    old_type, new_type = base_type(old), base_type(new)
    if "union" in (old_type, new_type):
        _compare_unions(ctx, before, after, path)
        return
    old_label, new_label = label(before, with_null=False), label(after, with_null=False)
    if old_type != new_type:
        way = direction(old_type, new_type)
        if way is None:
            message = f"type changed from {old_label} to {new_label}"
            ctx.emit("C301", path, message, old_label, new_label)
            return
        rule = "C302" if way == "widened" else "C303"
        ctx.emit(rule, path, f"type {way} from {old_type} to {new_type}", old_label, new_label)
        if {old_type, new_type} <= _NUMERIC:
            compare_constraints(ctx, old, new, path)
        return
    if old_values is not None:
        ctx.emit("C302", path, "values are no longer restricted", old_values, new_label)
    elif new_values is not None:
        ctx.emit("C303", path, "values are now restricted", old_label, new_values)
    if old.get("format") != new.get("format"):
        ctx.emit("C304", path, "string format changed", old.get("format"), new.get("format"))
    compare_constraints(ctx, old, new, path)
    if old_type in ("array", "tuple"):
        _compare_arrays(ctx, old, new, path)
    elif old_type == "object":
        compare_fields(ctx, old, new, path, compare_nodes)
        _compare_additional(ctx, old, new, path)


def _compare_values(ctx: Context, old: list[Any], new: list[Any], path: str) -> None:
    """Enum and const values: a changed constant, then each removed and each added value."""
    if len(old) == 1 and len(new) == 1:
        if value_key(old[0]) != value_key(new[0]):
            ctx.emit("C305", path, "constant changed", old[0], new[0])
        return
    old_keys, new_keys = {value_key(v) for v in old}, {value_key(v) for v in new}
    for value in old:
        if value_key(value) not in new_keys:
            ctx.emit("C321", path, f"enum value {value!r} removed", value, None)
    for value in new:
        if value_key(value) not in old_keys:
            if ctx.open_enums:
                message = f"enum value {value!r} added (consumers accept unknown values)"
                ctx.emit("C322", path, message, None, value, severity=Severity.WARNING)
            else:
                ctx.emit("C322", path, f"enum value {value!r} added", None, value)


def _compare_unions(ctx: Context, before: Shape, after: Shape, path: str) -> None:
    """Match union members by class name or type; a lost member narrows, a new one widens."""
    old_members = _members(before, ctx.old_root)
    new_members = _members(after, ctx.new_root)
    if old_members.keys().isdisjoint(new_members):
        old_label, new_label = label(before, with_null=False), label(after, with_null=False)
        message = f"type changed from {old_label} to {new_label}"
        ctx.emit("C301", path, message, old_label, new_label)
        return
    for key, member in old_members.items():
        if key in new_members:
            _compare_guarded(ctx, member, new_members[key], path)
        else:
            ctx.emit("C303", path, f"no longer accepts {key[0]}", key[0], None)
    for key in new_members:
        if key not in old_members:
            ctx.emit("C302", path, f"now also accepts {key[0]}", None, key[0])


def _members(shape: Shape, root: Mapping[str, Any]) -> dict[tuple[str, int], Shape]:
    """Union members keyed by (name, occurrence): a model or enum by its title (pydantic may qualify
    `$defs` names), anything else by its type. A non-union is a union of one."""
    union = next((shape.schema[k] for k in UNION_KEYS if isinstance(shape.schema.get(k), list)), None)
    shapes = [shape] if union is None else [resolve(branch, root) for branch in union]
    keyed: dict[tuple[str, int], Shape] = {}
    for member in shapes:
        title = member.annotations.get("title") if member.refs else None
        name = title if isinstance(title, str) else member.name or base_type(member.schema)
        count = sum(1 for existing, _ in keyed if existing == name)
        keyed[(name, count)] = member
    return keyed


def _compare_arrays(ctx: Context, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
    """Tuple positions as `[0]`, `[1]`; list items as `[]`."""
    old_prefix, new_prefix = old.get("prefixItems") or [], new.get("prefixItems") or []
    for index, (a, b) in enumerate(zip(old_prefix, new_prefix, strict=False)):
        compare_nodes(ctx, a, b, f"{path}[{index}]")  # a length change shows in min/maxItems
    old_items, new_items = old.get("items"), new.get("items")
    if old_items is not None and new_items is not None:
        compare_nodes(ctx, old_items, new_items, f"{path}[]")
    elif old_items is not None:
        ctx.emit("C302", f"{path}[]", "items are no longer typed", "typed", None)
    elif new_items is not None:
        ctx.emit("C303", f"{path}[]", "items are now typed", None, "typed")


def _openness(value: Any) -> int:
    """0: no other keys allowed, 1: other keys of one schema, 2: anything (absent or `true`)."""
    if value is False:
        return 0
    return 1 if isinstance(value, Mapping) else 2


def _compare_additional(ctx: Context, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
    """`additionalProperties`: map values compare as `.*`; closing an object is a tightening."""
    before, after = old.get("additionalProperties"), new.get("additionalProperties")
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        compare_nodes(ctx, before, after, f"{path}.*")
        return
    was, now = _openness(before), _openness(after)
    if now < was:
        ctx.emit("C331", path, "additional properties restricted", before, after)
    elif now > was:
        ctx.emit("C332", path, "additional properties allowed", before, after)

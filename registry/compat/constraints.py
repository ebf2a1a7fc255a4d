"""Constraint rules: a value the old schema accepted that the new one rejects is a break (C331), and so
is the reverse (C332): a consumer still validating with the old schema rejects what producers may now
send (`gt=0` -> `ge=0` lets 0 through), the both-directions rule types (C302/C303) and enums
(C321/C322) follow. Bounds, lengths, counts, `multipleOf`, `pattern`, `uniqueItems`."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Final

from registry.compat.context import Context

_LOWER: Final = ("minLength", "minItems", "minProperties")
_UPPER: Final = ("maxLength", "maxItems", "maxProperties", "max_digits", "decimal_places")

Bound = tuple[Fraction, bool]  # (value, exclusive)


def compare_constraints(ctx: Context, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
    """Emit C331/C332 for every validation keyword whose accepted range changed."""
    _numeric_bound(ctx, old, new, path, "minimum", "exclusiveMinimum", lower=True)
    _numeric_bound(ctx, old, new, path, "maximum", "exclusiveMaximum", lower=False)
    for key in _LOWER:
        _count(ctx, old, new, path, key, lower=True)
    for key in _UPPER:
        _count(ctx, old, new, path, key, lower=False)
    _multiple_of(ctx, old, new, path)
    _pattern(ctx, old, new, path)
    _unique_items(ctx, old, new, path)


def _number(value: Any) -> Fraction | None:
    """An exact number for comparison (0.1 stays 0.1); None for a non-number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Fraction(str(value))


def _bound(schema: Mapping[str, Any], inclusive: str, exclusive: str, lower: bool) -> Bound | None:
    """The effective bound from `minimum`/`exclusiveMinimum` (or the maxima); the stricter wins."""
    found: list[Bound] = []
    value = _number(schema.get(inclusive))
    excl = schema.get(exclusive)
    if isinstance(excl, bool):  # draft 4: a flag on `minimum`/`maximum`
        if value is not None:
            found.append((value, excl))
    else:
        if value is not None:
            found.append((value, False))
        excl_value = _number(excl)
        if excl_value is not None:
            found.append((excl_value, True))
    if not found:
        return None
    return max(found, key=_strictness(lower))


def _strictness(lower: bool) -> Any:
    """Sort key: larger means stricter (a higher minimum, a lower maximum, exclusive over inclusive)."""

    def key(bound: Bound) -> tuple[Fraction, bool]:
        value, exclusive = bound
        return (value if lower else -value, exclusive)

    return key


def _numeric_bound(
    ctx: Context,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    path: str,
    inclusive: str,
    exclusive: str,
    *,
    lower: bool,
) -> None:
    before = _bound(old, inclusive, exclusive, lower)
    after = _bound(new, inclusive, exclusive, lower)
    if before == after:
        return
    which = "lower" if lower else "upper"
    old_view = {k: old[k] for k in (inclusive, exclusive) if k in old} or None
    new_view = {k: new[k] for k in (inclusive, exclusive) if k in new} or None
    if before is None:
        ctx.emit("C331", path, f"{which} bound added", old_view, new_view)
    elif after is None:
        ctx.emit("C332", path, f"{which} bound removed", old_view, new_view)
    elif _strictness(lower)(after) > _strictness(lower)(before):
        ctx.emit("C331", path, f"{which} bound tightened", old_view, new_view)
    else:
        ctx.emit("C332", path, f"{which} bound loosened", old_view, new_view)


def _count(
    ctx: Context, old: Mapping[str, Any], new: Mapping[str, Any], path: str, key: str, *, lower: bool
) -> None:
    before, after = old.get(key), new.get(key)
    if before == after:
        return
    if before is None:
        ctx.emit("C331", path, f"{key} added", before, after)
        return
    if after is None:
        ctx.emit("C332", path, f"{key} removed", before, after)
        return
    b, a = _number(before), _number(after)
    if b is None or a is None:
        ctx.emit("C331", path, f"{key} changed", before, after)
        return
    tightened = a > b if lower else a < b
    if tightened:
        ctx.emit("C331", path, f"{key} tightened", before, after)
    else:
        ctx.emit("C332", path, f"{key} loosened", before, after)


def _multiple_of(ctx: Context, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
    before, after = old.get("multipleOf"), new.get("multipleOf")
    if before == after:
        return
    if before is None:
        ctx.emit("C331", path, "multipleOf added", before, after)
        return
    if after is None:
        ctx.emit("C332", path, "multipleOf removed", before, after)
        return
    b, a = _number(before), _number(after)
    if b and a and (b / a).denominator == 1:  # every multiple of the old step is one of the new
        ctx.emit("C332", path, "multipleOf loosened", before, after)
    else:
        ctx.emit("C331", path, "multipleOf tightened or changed", before, after)


def _pattern(ctx: Context, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
    before, after = old.get("pattern"), new.get("pattern")
    if before == after:
        return
    if after is None:
        ctx.emit("C332", path, "pattern removed", before, after)
    elif before is None:
        ctx.emit("C331", path, "pattern added", before, after)
    else:  # whether one regex contains another is undecidable in general: assume it breaks
        ctx.emit("C331", path, "pattern changed", before, after)


def _unique_items(ctx: Context, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
    before, after = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
    if before == after:
        return
    if after:
        ctx.emit("C331", path, "uniqueItems added", before, after)
    else:
        ctx.emit("C332", path, "uniqueItems removed", before, after)

"""Type names of resolved schema nodes, their value sets, and which changes widen or narrow."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from registry.compat.jsonschema_walk import UNION_KEYS, Shape

_WIDER: Final = frozenset({("integer", "number")})


def base_type(schema: Mapping[str, Any]) -> str:
    """The JSON type a core node describes: `string`, `integer`, ..., `tuple`, `union`, `any`."""
    if any(isinstance(schema.get(k), list) for k in UNION_KEYS):
        return "union"
    declared = schema.get("type")
    if isinstance(declared, list):
        return "|".join(sorted(str(t) for t in declared))
    if declared == "array" and "prefixItems" in schema:
        return "tuple"
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "prefixItems" in schema:
        return "tuple"
    if "items" in schema:
        return "array"
    values = value_set(schema)
    if values is not None:
        return "|".join(sorted({json_type(v) for v in values}))
    if schema.get("not") == {}:
        return "never"
    return "any"


def value_set(schema: Mapping[str, Any]) -> list[Any] | None:
    """The allowed values of a `const` (a `Literal`) or an `enum`, in order; None when unrestricted."""
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def value_key(value: Any) -> str:
    """A key that tells `1`, `1.0` and `true` apart (Python equality does not)."""
    return json.dumps(value, sort_keys=True, default=str)


def json_type(value: Any) -> str:
    """The JSON type name of a Python value decoded from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def label(shape: Shape, *, with_null: bool = True) -> str:
    """A short name for messages and `old`/`new`: a model's or enum's title (its class name), else
    the type and its format."""
    title = shape.annotations.get("title") if shape.refs else None
    text = title if isinstance(title, str) else shape.name or _plain_label(shape.schema)
    return f"{text}|null" if with_null and shape.nullable else text


def _plain_label(schema: Mapping[str, Any]) -> str:
    """`string(uuid)`, `integer`; a union lists its members: `number|string`, `Cash|Margin`."""
    members = next((schema[k] for k in UNION_KEYS if isinstance(schema.get(k), list)), None)
    if members is not None:
        return "|".join(_member_label(m) for m in members)
    text = base_type(schema)
    fmt = schema.get("format")
    return f"{text}({fmt})" if isinstance(fmt, str) else text


def _member_label(member: Any) -> str:
    if not isinstance(member, Mapping):
        return "any" if member is True else "never"
    ref = member.get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    return _plain_label(member)


def direction(old: str, new: str) -> str | None:
    """`widened` or `narrowed` when one type contains the other, None for an unrelated change."""
    if (old, new) in _WIDER or new == "any":
        return "widened"
    if (new, old) in _WIDER or old == "any":
        return "narrowed"
    return None

"""A small JSON Schema (2020-12) validator for the keywords pydantic emits, used by the wire check.

Standard library only: `jsonschema` is a dev dependency, and importing it costs `gordon schemas check`
about 0.4 s. Covers `$ref` (local), `type`, `const`, `enum`, `anyOf`/`oneOf`/`allOf`/`not`, object,
array, string and number keywords; `format` and unknown keywords are annotations (as in jsonschema's
default). tests/compat/test_validate.py checks it agrees with jsonschema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Final

from registry.compat.fields import child_path

_TYPES: Final = ("null", "boolean", "integer", "number", "string", "array", "object")


def first_error(instance: Any, schema: Any, root: Mapping[str, Any] | None = None) -> str | None:
    """None when `instance` (decoded JSON) is valid against `schema`; else the first reason, with
    its path into the instance (`$.qty: 1.5 is not of type 'string'`)."""
    return _check(instance, schema, root if root is not None else schema, "$", 0)


def _check(value: Any, schema: Any, root: Mapping[str, Any], path: str, depth: int) -> str | None:
    if schema is True or schema == {}:
        return None
    if schema is False:
        return f"{path}: no value is allowed here"
    if not isinstance(schema, Mapping) or depth > 64:
        return f"{path}: cannot read the schema here"
    ref = schema.get("$ref")
    if isinstance(ref, str):
        error = _check(value, _resolve(ref, root), root, path, depth + 1)
        if error:
            return error
    for check in (_type, _values, _combinators, _number, _string, _array, _object):
        error = check(value, schema, root, path, depth)
        if error:
            return error
    return None


def _resolve(ref: str, root: Mapping[str, Any]) -> Any:
    if not ref.startswith("#"):
        return False  # a remote reference: the registry never emits one
    node: Any = root
    for part in ref.lstrip("#").split("/")[1:]:
        key = part.replace("~1", "/").replace("~0", "~")
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if node is not None else False


def _is(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return _numeric(value) and (isinstance(value, int) or float(value).is_integer())
    if kind == "number":
        return _numeric(value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 equals 1.0, true is not 1."""
    if _numeric(a) and _numeric(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _type(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, depth: int
) -> str | None:
    declared = schema.get("type")
    kinds = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else None
    if kinds is None or any(_is(value, k) for k in kinds if k in _TYPES):
        return None
    wanted = kinds[0] if len(kinds) == 1 else kinds
    return f"{path}: {_shown(value)} is not of type {wanted!r}"


def _values(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, depth: int
) -> str | None:
    if "const" in schema and not _same(value, schema["const"]):
        return f"{path}: {_shown(value)} is not {_shown(schema['const'])}"
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(_same(value, option) for option in enum):
        return f"{path}: {_shown(value)} is not one of {_shown(enum)}"
    return None


def _combinators(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, depth: int
) -> str | None:
    for branch in schema.get("allOf") or ():
        error = _check(value, branch, root, path, depth + 1)
        if error:
            return error
    any_of = schema.get("anyOf")
    if isinstance(any_of, list):
        errors = [_check(value, branch, root, path, depth + 1) for branch in any_of]
        if all(errors):
            return f"{path}: {_shown(value)} matches none of anyOf ({errors[-1]})"
    one_of = schema.get("oneOf")
    if isinstance(one_of, list):
        matched = sum(1 for branch in one_of if _check(value, branch, root, path, depth + 1) is None)
        if matched != 1:
            return f"{path}: {_shown(value)} matches {matched} of oneOf, not exactly 1"
    if "not" in schema and _check(value, schema["not"], root, path, depth + 1) is None:
        return f"{path}: {_shown(value)} matches a schema under `not`"
    return None


def _number(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, depth: int
) -> str | None:
    if not _numeric(value):
        return None
    exact = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    for key, sign in _BOUNDS.items():
        bound = schema.get(key)
        if _numeric(bound) and not _holds(exact, sign, Fraction(str(bound))):
            return f"{path}: {_shown(value)} is not {sign} {bound}"
    step = schema.get("multipleOf")
    if _numeric(step) and Fraction(str(step)) > 0 and (exact / Fraction(str(step))).denominator != 1:
        return f"{path}: {_shown(value)} is not a multiple of {step}"
    return None


_BOUNDS: Final = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


def _holds(value: Fraction, sign: str, bound: Fraction) -> bool:
    if sign == ">=":
        return value >= bound
    if sign == "<=":
        return value <= bound
    return value > bound if sign == ">" else value < bound


def _string(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, depth: int
) -> str | None:
    if not isinstance(value, str):
        return None
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(value) < low:
        return f"{path}: {_shown(value)} is shorter than {low}"
    if isinstance(high, int) and len(value) > high:
        return f"{path}: {_shown(value)} is longer than {high}"
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            matched = re.search(pattern, value) is not None
        except re.error:
            return f"{path}: the schema's pattern {pattern!r} is not a regular expression"
        if not matched:
            return f"{path}: {_shown(value)} does not match {pattern!r}"
    return None


def _array(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, depth: int
) -> str | None:
    if not isinstance(value, list):
        return None
    low, high = schema.get("minItems"), schema.get("maxItems")
    if isinstance(low, int) and len(value) < low:
        return f"{path}: {len(value)} items, fewer than {low}"
    if isinstance(high, int) and len(value) > high:
        return f"{path}: {len(value)} items, more than {high}"
    if schema.get("uniqueItems") is True:
        for index, item in enumerate(value):
            if any(_same(item, other) for other in value[:index]):
                return f"{path}[{index}]: {_shown(item)} is a repeated item"
    prefix = schema.get("prefixItems")
    prefix = prefix if isinstance(prefix, list) else []
    for index, (item, branch) in enumerate(zip(value, prefix, strict=False)):
        error = _check(item, branch, root, f"{path}[{index}]", depth + 1)
        if error:
            return error
    items = schema.get("items")
    if items is not None:
        for index in range(len(prefix), len(value)):
            error = _check(value[index], items, root, f"{path}[{index}]", depth + 1)
            if error:
                return error
    return None


def _object(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, depth: int
) -> str | None:
    if not isinstance(value, dict):
        return None
    low, high = schema.get("minProperties"), schema.get("maxProperties")
    if isinstance(low, int) and len(value) < low:
        return f"{path}: {len(value)} properties, fewer than {low}"
    if isinstance(high, int) and len(value) > high:
        return f"{path}: {len(value)} properties, more than {high}"
    for name in schema.get("required") or ():
        if name not in value:
            return f"{child_path(path, name)}: required property is missing"
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    patterns = schema.get("patternProperties")
    patterns = patterns if isinstance(patterns, Mapping) else {}
    extra = schema.get("additionalProperties")
    for name, item in value.items():
        where = child_path(path, name)
        matched = [branch for pattern, branch in patterns.items() if re.search(pattern, name)]
        if name in properties:
            matched.append(properties[name])
        elif not matched and extra is not None:
            matched.append(extra)
        for branch in matched:
            error = _check(item, branch, root, where, depth + 1)
            if error:
                return f"{where}: property is not allowed" if branch is False else error
    return None

"""`check_schema`: rules one schema must meet on its own — `schema_version` present, first, constant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.compat.context import Context
from registry.compat.fields import VERSION_FIELD, child_path
from registry.compat.findings import Finding
from registry.compat.jsonschema_walk import resolve
from registry.compat.kinds import base_type, value_set


def check_schema(schema: Mapping[str, Any], *, subject: str, version: int) -> list[Finding]:
    """Findings about `schema` alone, as declared for (subject, version): C101, C102, C103."""
    ctx = Context(subject=subject, version=version, old_root=schema, new_root=schema)
    where = child_path("$", VERSION_FIELD)
    properties: Mapping[str, Any] = resolve(schema, schema).schema.get("properties") or {}
    if VERSION_FIELD not in properties:
        ctx.emit("C101", where, f"{VERSION_FIELD} is missing; it must be the first field")
        return ctx.findings
    names = list(properties)
    if names[0] != VERSION_FIELD:
        message = f"{VERSION_FIELD} is field {names.index(VERSION_FIELD) + 1}; it must come first"
        ctx.emit("C102", where, message, None, names[0])
    field = resolve(properties[VERSION_FIELD], schema)
    values = value_set(field.schema)
    constant = values[0] if values is not None and len(values) == 1 else None
    is_int = type(constant) is int and base_type(field.schema) == "integer"
    if not (is_int and constant == version and not field.nullable):
        found = constant if values is not None and len(values) == 1 else base_type(field.schema)
        message = f"{VERSION_FIELD} must be the integer constant {version}"
        ctx.emit("C103", where, message, None, found)
    return ctx.findings

"""`check_schema`: rules one schema must meet on its own — `schema_version` present, first, constant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.compat.context import Context
from registry.compat.fields import child_path
from registry.compat.findings import Finding
from registry.compat.jsonschema_walk import resolve
from registry.compat.version_field import VERSION_FIELD, is_version_constant, version_view


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
    field = properties[VERSION_FIELD]
    if not is_version_constant(field, schema, version):
        found = version_view(resolve(field, schema).schema)
        ctx.emit("C103", where, f"{VERSION_FIELD} must be the integer constant {version}", None, found)
    return ctx.findings

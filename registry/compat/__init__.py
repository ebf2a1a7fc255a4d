"""Schema compatibility engine: pure functions over pydantic-generated JSON Schemas, no I/O.

`diff_revision` compares a locked revision with the current schema of the same (subject, version);
`check_schema` checks one schema alone; `RULES` lists every rule id with a one-line description.
"""

from registry.compat.check import check_schema
from registry.compat.diff import diff_revision
from registry.compat.findings import Finding, Severity
from registry.compat.jsonschema_walk import SchemaError
from registry.compat.rules import RULES

__all__ = ["RULES", "Finding", "SchemaError", "Severity", "check_schema", "diff_revision"]

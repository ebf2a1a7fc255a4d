"""The rule table: every id the engine can report, its default severity and a one-line description."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from registry.compat.findings import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    """A stable id (never reused), its severity unless a flag says otherwise, and what it means."""

    id: str
    severity: Severity
    summary: str


_E = Severity.ERROR
_W = Severity.WARNING

_TABLE: Final = (
    # schema_version (checked on one schema, and across revisions)
    Rule("C101", _E, "schema_version is missing"),
    Rule("C102", _E, "schema_version is not the first field"),
    Rule("C103", _E, "schema_version is not an integer constant equal to the declared version"),
    Rule("C104", _E, "schema_version was removed"),
    Rule("C105", _E, "schema_version was retyped or its constant changed"),
    # the set and order of fields
    Rule("C201", _E, "a field was removed"),
    Rule("C202", _E, "a field was renamed (one removed, one of the same type added in its place)"),
    Rule("C203", _E, "a new required field was added"),
    Rule("C204", _E, "a new field was inserted before existing fields (append at the end only)"),
    Rule("C205", _W, "existing fields changed order"),
    # types and values
    Rule("C301", _E, "a field's type changed"),
    Rule("C302", _E, "a field's type was widened (e.g. integer to number, enum to string)"),
    Rule("C303", _E, "a field's type was narrowed (e.g. number to integer, string to enum)"),
    Rule("C304", _E, "a string format changed, was added or was removed"),
    Rule("C305", _E, "a constant (Literal) value changed"),
    Rule("C311", _E, "an optional field was made required"),
    Rule("C312", _E, "a required field was made optional (consumers may now get nothing)"),
    Rule("C313", _E, "a nullable field no longer accepts null"),
    Rule("C314", _E, "a field now accepts null"),
    Rule("C321", _E, "an enum value was removed"),
    Rule("C322", _E, "an enum value was added (a warning when consumers accept unknown values)"),
    Rule("C331", _E, "a constraint was tightened or added"),
    Rule("C332", _E, "a constraint was loosened or removed (old consumers reject what it now admits)"),
    # documentation only
    Rule("C401", _W, "a description changed"),
    Rule("C402", _W, "a title changed"),
    Rule("C403", _W, "a default value changed"),
    Rule("C404", _W, "examples changed"),
    Rule("C405", _W, "the deprecated flag changed"),
)

BY_ID: Final[MappingProxyType[str, Rule]] = MappingProxyType({rule.id: rule for rule in _TABLE})
RULES: Final[MappingProxyType[str, str]] = MappingProxyType({rule.id: rule.summary for rule in _TABLE})

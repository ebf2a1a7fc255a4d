"""Constraint keywords pydantic does not emit for every type, checked on raw schema fragments."""

from __future__ import annotations

from typing import Any

import pytest

from registry.compat import diff_revision


def _payload(field: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"schema_version": {"const": 1, "type": "integer"}, "x": field},
        "required": ["x"],
    }


def _rules(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [f.rule for f in diff_revision(_payload(old), _payload(new), subject="s", version=1)]


NUMBER = {"type": "number"}
STRING = {"type": "string"}


@pytest.mark.parametrize(
    ("old", "new", "rules"),
    [
        ({**STRING, "decimal_places": 8}, {**STRING, "decimal_places": 2}, ["C331"]),
        ({**STRING, "max_digits": 10}, {**STRING, "max_digits": 18}, ["C332"]),
        ({**STRING}, {**STRING, "max_digits": 18}, ["C331"]),
        ({**NUMBER, "minimum": 0, "exclusiveMinimum": True}, {**NUMBER, "minimum": 0}, ["C332"]),
        ({**NUMBER, "minimum": 0}, {**NUMBER, "minimum": 0, "exclusiveMinimum": True}, ["C331"]),
        ({**NUMBER, "minimum": 1, "exclusiveMinimum": 0}, {**NUMBER, "minimum": 1}, []),
        ({**NUMBER, "maximum": 10}, {**NUMBER}, ["C332"]),
        ({**NUMBER, "multipleOf": 0.3}, {**NUMBER, "multipleOf": 0.2}, ["C331"]),
        ({**NUMBER, "multipleOf": 0.1}, {**NUMBER, "multipleOf": 0.1}, []),
        ({"type": "array", "minItems": 1}, {"type": "array", "minItems": 2}, ["C331"]),
        ({"type": "object", "maxProperties": 3}, {"type": "object", "maxProperties": 4}, ["C332"]),
        ({"type": "object", "additionalProperties": False}, {"type": "object"}, ["C332"]),
        (
            {"type": "object", "additionalProperties": {"type": "integer"}},
            {"type": "object", "additionalProperties": False},
            ["C331"],
        ),
        ({"type": "integer", "minimum": 0}, {"type": "number", "minimum": 1}, ["C302", "C331"]),
        ({**STRING, "maxLength": "ten"}, {**STRING, "maxLength": 5}, ["C331"]),
    ],
)
def test_constraint_direction(old: dict[str, Any], new: dict[str, Any], rules: list[str]) -> None:
    assert _rules(old, new) == rules


def test_paths_inside_tuples_and_maps() -> None:
    old = {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}
    new = {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}]}
    findings = diff_revision(_payload(old), _payload(new), subject="s", version=1)
    assert [(f.rule, f.path) for f in findings] == [("C301", "$.x[1]")]


def test_odd_property_names_are_quoted_in_paths() -> None:
    old = {"type": "object", "properties": {"odd key": {"type": "integer"}}}
    new = {"type": "object", "properties": {}}
    findings = diff_revision(_payload(old), _payload(new), subject="s", version=1)
    assert [(f.rule, f.path) for f in findings] == [("C201", '$.x["odd key"]')]

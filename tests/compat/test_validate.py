"""The wire check's small validator agrees with jsonschema (a dev dependency) on the registry's schemas
and on every keyword it claims to cover."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from registry.compat.lock import current
from registry.compat.validate import first_error
from schemas import REGISTRY

ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    1.5,
    1e300,
    "",
    "x",
    "0.5",
    "-3",
    "1e5",
    [],
    {},
    [1],
    {"a": 1},
)


def agree(document: Any, schema: dict[str, Any]) -> None:
    expected = jsonschema.Draft202012Validator(schema).is_valid(document)
    error = first_error(document, schema)
    assert (error is None) == expected, (json.dumps(document)[:200], error)


def _wire_examples() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    lock = current(REGISTRY)
    found = []
    for subject in REGISTRY.subjects:
        schema = lock.subjects[subject.name].versions[subject.payload.VERSION][0]
        for example in subject.payload.__dict__.get("EXAMPLES", ()):
            found.append((json.loads(subject.payload.model_validate(example).model_dump_json()), schema))
    return found


@pytest.mark.parametrize(("document", "schema"), _wire_examples())
def test_agrees_on_every_field_of_every_example_changed(
    document: dict[str, Any], schema: dict[str, Any]
) -> None:
    agree(document, schema)
    for name in document:
        missing = {k: v for k, v in document.items() if k != name}
        agree(missing, schema)
        for value in ODD_VALUES:
            agree({**document, name: value}, schema)
    agree({**document, "unknown": 1}, schema)
    agree([document], schema)


KEYWORDS: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1"]),
    ({"type": ["string", "null"]}, ["a", None, 1]),
    ({"const": 1}, [1, 1.0, True, "1"]),
    ({"enum": ["a", 1, None]}, ["a", 1, None, "b", False]),
    ({"minimum": 0, "exclusiveMaximum": 10}, [0, -0.1, 9.99, 10, "x"]),
    ({"exclusiveMinimum": 0, "maximum": 1}, [0, 1e-9, 1, 1.0000001]),
    ({"multipleOf": 0.01}, [0.1, 0.015, 3, 1.23]),
    (
        {"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[a-z]+$"},
        ["ab", "a", "abcd", "AB", "é"],
    ),
    (
        {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 2},
        [[], [1], [1, 2, 3], ["a"]],
    ),
    (
        {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
        [["a", 1], [1, "a"], ["a"]],
    ),
    ({"type": "array", "uniqueItems": True}, [[1, 2], [1, 1], [1, 1.0], [1, True], [{"a": 1}, {"a": 1}]]),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "required": ["a"],
            "additionalProperties": False,
        },
        [{"a": 1}, {}, {"a": 1, "b": 2}, {"a": "x"}],
    ),
    ({"type": "object", "additionalProperties": {"type": "string"}}, [{"k": "v"}, {"k": 1}, {}]),
    (
        {"type": "object", "patternProperties": {"^x": {"type": "integer"}}},
        [{"x1": 1}, {"x1": "a"}, {"y": "a"}],
    ),
    ({"minProperties": 1, "maxProperties": 1}, [{}, {"a": 1}, {"a": 1, "b": 2}]),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, ["a", None, 1]),
    ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, [1.5, 1, "a"]),
    ({"allOf": [{"minimum": 1}, {"maximum": 2}]}, [0, 1.5, 3]),
    ({"not": {"type": "string"}}, ["a", 1]),
    (
        {"$defs": {"P": {"type": "object", "required": ["x"]}}, "properties": {"p": {"$ref": "#/$defs/P"}}},
        [
            {"p": {"x": 1}},
            {"p": {}},
            {},
        ],
    ),
    ({"type": "string", "format": "uuid"}, ["not-a-uuid", "01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60"]),
]


@pytest.mark.parametrize(("schema", "documents"), KEYWORDS, ids=lambda x: json.dumps(x)[:40])
def test_agrees_on_each_keyword(schema: dict[str, Any], documents: list[Any]) -> None:
    for document in documents:
        agree(copy.deepcopy(document), schema)


def test_the_reason_names_the_path() -> None:
    schema = {"properties": {"legs": {"items": {"properties": {"qty": {"type": "string"}}}}}}
    assert (
        first_error({"legs": [{"qty": "1"}, {"qty": 1.5}]}, schema)
        == "$.legs[1].qty: 1.5 is not of type 'string'"
    )

"""Resolving schema nodes: `$ref` chains, one-element `allOf`, null split off, bad input named."""

from __future__ import annotations

from typing import Any

import pytest

from registry.compat import SchemaError, diff_revision
from registry.compat.jsonschema_walk import resolve

ROOT: dict[str, Any] = {
    "$defs": {
        "Alias": {"$ref": "#/$defs/Price"},
        "Price": {"type": "number", "minimum": 0, "title": "Price"},
        "Loop": {"$ref": "#/$defs/Loop"},
        "a/b": {"type": "string"},
    }
}


def test_ref_chains_are_followed_and_siblings_win() -> None:
    shape = resolve({"$ref": "#/$defs/Alias", "title": "Bid"}, ROOT)
    assert shape.schema == {"type": "number", "minimum": 0}
    assert shape.annotations == {"title": "Bid"}
    assert shape.refs == ("#/$defs/Alias", "#/$defs/Price")
    assert not shape.nullable


def test_single_allof_and_nullable_anyof_unwrap_to_the_same_core() -> None:
    wrapped = {"anyOf": [{"allOf": [{"$ref": "#/$defs/Price"}]}, {"type": "null"}], "default": None}
    shape = resolve(wrapped, ROOT)
    assert shape.schema == {"type": "number", "minimum": 0}
    assert shape.nullable
    assert shape.annotations == {"title": "Price", "default": None}


def test_type_list_with_null_is_nullable() -> None:
    shape = resolve({"type": ["integer", "null"]}, ROOT)
    assert (shape.schema, shape.nullable) == ({"type": "integer"}, True)


def test_self_referencing_ref_terminates() -> None:
    assert resolve({"$ref": "#/$defs/Loop"}, ROOT).schema == {}


def test_pointer_escapes() -> None:
    assert resolve({"$ref": "#/$defs/a~1b"}, ROOT).schema == {"type": "string"}


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"$ref": "#/$defs/Missing"}, "points at nothing"),
        ({"$ref": "other.json#/x"}, r"only local \$ref"),
        ({"$ref": 3}, "must be a string"),
        (42, "must be an object or a boolean"),
    ],
)
def test_unreadable_nodes_raise_one_clear_error(node: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        resolve(node, ROOT)


def test_wrappers_alone_are_not_changes() -> None:
    defs = {"Price": {"type": "number"}}
    old = {"$defs": defs, "type": "object", "properties": {"p": {"$ref": "#/$defs/Price"}}}
    new = {"$defs": defs, "type": "object", "properties": {"p": {"allOf": [{"$ref": "#/$defs/Price"}]}}}
    assert diff_revision(old, new, subject="s", version=1) == []


def test_boolean_schemas() -> None:
    old = {"type": "object", "properties": {"x": True}}
    new = {"type": "object", "properties": {"x": {"type": "integer"}}}
    assert [f.rule for f in diff_revision(old, new, subject="s", version=1)] == ["C303"]

"""Property tests over generated payload models (pure: no fixtures, models built per example).

A model is described as data (field name, type tree, has a default) and built with
`pydantic.create_model`, so the old and new side of a change are two independent builds.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Optional
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, create_model

from registry.compat import Severity, check_schema, diff_revision

# a type tree: a scalar name, ("list", tree), ("optional", tree) or ("model", [field, ...])
TypeTree = Any
FieldSpec = tuple[str, TypeTree, bool]  # name, type, has a default

NAMES = ["qty", "price", "fee", "symbol", "side", "ts_ms", "order_id", "venue", "note", "tags", "level"]
SCALARS = ["int", "float", "str", "bool", "decimal", "uuid", "enum"]


class Level(StrEnum):
    LOW = "low"
    HIGH = "high"


SCALAR_TYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "decimal": Decimal,
    "uuid": UUID,
    "enum": Level,
}
SCALAR_DEFAULTS: dict[str, Any] = {
    "int": 0,
    "float": 0.0,
    "str": "",
    "bool": False,
    "decimal": Decimal("0"),
    "uuid": UUID(int=0),
    "enum": Level.LOW,
}


class Payload(BaseModel):
    model_config = ConfigDict(title="Payload", frozen=True, extra="ignore")
    schema_version: Literal[1] = 1


class Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def _fields(inner: st.SearchStrategy[TypeTree], max_size: int) -> st.SearchStrategy[list[FieldSpec]]:
    field = st.tuples(st.sampled_from(NAMES), inner, st.booleans())
    return st.lists(field, min_size=1, max_size=max_size, unique_by=lambda f: f[0])


def _extend(inner: st.SearchStrategy[TypeTree]) -> st.SearchStrategy[TypeTree]:
    return st.one_of(
        st.tuples(st.just("list"), inner),
        st.tuples(st.just("optional"), inner),
        st.tuples(st.just("model"), _fields(inner, 3)),
    )


TYPES = st.recursive(st.sampled_from(SCALARS), _extend, max_leaves=4)
FIELDS = _fields(TYPES, 6)


def annotation(tree: TypeTree, path: str) -> Any:
    """The Python type of a type tree; nested models are named by their path, so names never clash."""
    if isinstance(tree, str):
        return SCALAR_TYPES[tree]
    kind, inner = tree
    if kind == "list":
        return list[annotation(inner, path + "_item")]  # type: ignore[misc]
    if kind == "optional":
        return Optional[annotation(inner, path)]  # noqa: UP045 - built at runtime
    return build(inner, name=f"Part_{path}", base=Part)


def definition(spec: FieldSpec, path: str) -> tuple[Any, Any]:
    """(type, default) for `create_model`; a field with a default gets one that fits its type."""
    name, tree, has_default = spec
    kind = tree if isinstance(tree, str) else tree[0]
    python_type = annotation(tree, f"{path}_{name}")
    if not has_default:
        return (python_type, ...)
    if kind == "optional":
        return (python_type, None)
    if kind == "list":
        return (python_type, Field(default_factory=list))
    if kind == "model":
        return (Optional[python_type], None)  # noqa: UP045 - built at runtime
    return (python_type, SCALAR_DEFAULTS[kind])


def build(
    fields: list[FieldSpec], *, name: str = "Generated", base: type[BaseModel] = Payload
) -> type[BaseModel]:
    definitions: dict[str, Any] = {spec[0]: definition(spec, name) for spec in fields}
    return create_model(name, __base__=base, **definitions)


def schema(fields: list[FieldSpec]) -> dict[str, Any]:
    return build(fields).model_json_schema(mode="validation")


PROPERTY = settings(max_examples=60, deadline=None)


@PROPERTY
@given(FIELDS)
def test_a_model_compared_with_itself_reports_nothing(fields: list[FieldSpec]) -> None:
    first, second = schema(fields), schema(fields)  # two separate builds of one declaration
    assert diff_revision(first, second, subject="s", version=1) == []
    assert check_schema(first, subject="s", version=1) == []


@PROPERTY
@given(FIELDS, st.data())
def test_appending_an_optional_field_with_a_default_breaks_nothing(
    fields: list[FieldSpec], data: st.DataObject
) -> None:
    taken = {spec[0] for spec in fields}
    name = data.draw(st.sampled_from([n for n in NAMES if n not in taken] or ["extra"]), label="name")
    added: FieldSpec = (name, data.draw(TYPES, label="type"), True)
    findings = diff_revision(schema(fields), schema([*fields, added]), subject="s", version=1)
    assert [str(f) for f in findings if f.severity is Severity.ERROR] == []
    assert findings == []


@PROPERTY
@given(FIELDS, st.data())
def test_removing_any_field_is_an_error(fields: list[FieldSpec], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(fields) - 1), label="index")
    kept = fields[:index] + fields[index + 1 :]
    findings = diff_revision(schema(fields), schema(kept), subject="s", version=1)
    removed = f"$.{fields[index][0]}"
    assert any(f.rule == "C201" and f.path == removed for f in findings)
    assert all(f.severity is Severity.ERROR for f in findings if f.rule == "C201")


@PROPERTY
@given(FIELDS, FIELDS)
def test_findings_are_deterministic_and_serialisable(old: list[FieldSpec], new: list[FieldSpec]) -> None:
    before, after = schema(old), schema(new)
    first = diff_revision(before, after, subject="s", version=1)
    assert diff_revision(before, after, subject="s", version=1) == first
    for finding in first:
        assert "\n" not in str(finding)
        assert finding.to_dict()["rule"] == finding.rule

"""`check_schema`: schema_version present, first, and the integer constant of the declared version."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from registry.compat import check_schema, diff_revision

from . import pairs_meta as m


def _rules(model: type[BaseModel], version: int = 1) -> list[str]:
    schema = model.model_json_schema(mode="validation")
    return [f.rule for f in check_schema(schema, subject="trading.fills.{bot_id}", version=version)]


def test_a_well_formed_payload_passes() -> None:
    assert _rules(m.Fill) == []


def test_missing_schema_version() -> None:
    (finding,) = check_schema(m.NoVersion.model_json_schema(), subject="risk.commands", version=1)
    assert (finding.rule, finding.path) == ("C101", "$.schema_version")
    assert str(finding) == (
        "C101 error risk.commands v1 $.schema_version: schema_version is missing; it must be the first field"
    )


def test_schema_version_not_first() -> None:
    (finding,) = check_schema(m.VersionNotFirst.model_json_schema(), subject="s", version=1)
    assert (finding.rule, finding.new) == ("C102", "a")


def test_constant_must_equal_the_declared_version() -> None:
    assert _rules(m.VersionWrongConstant, version=1) == ["C103"]
    assert _rules(m.VersionWrongConstant, version=2) == []
    assert _rules(m.Fill, version=2) == ["C103"]


def test_a_plain_int_or_a_bool_is_not_a_version_constant() -> None:
    assert _rules(m.VersionRetypedNew) == ["C103"]
    assert _rules(m.VersionBool) == ["C103"]


def test_a_nullable_version_is_rejected() -> None:
    class Nullable(BaseModel):
        schema_version: Literal[1] | None = 1

    assert _rules(Nullable) == ["C103"]


def test_recursive_payload_with_a_ref_at_the_root() -> None:
    class Node(BaseModel):
        schema_version: Literal[1] = 1
        children: list[Node] = []

    class NodeRetyped(BaseModel):
        schema_version: Literal[1] = 1
        children: list[NodeRetyped] = []
        label: str

    Node.model_rebuild()
    NodeRetyped.model_rebuild()
    old, new = Node.model_json_schema(), NodeRetyped.model_json_schema()
    assert "$ref" in old  # pydantic puts a self-recursive model in $defs
    assert _rules(Node) == []
    findings = diff_revision(old, new, subject="s", version=1)
    assert [(f.rule, f.path) for f in findings] == [("C203", "$.label"), ("C402", "$")]

"""Before/after model pairs through `diff_revision`: the exact set of rule ids, and a few paths."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pydantic import BaseModel

from registry.compat import RULES, Severity, diff_revision

from . import pairs as p
from . import pairs_meta as m
from . import pairs_values as v

SUBJECT = "trading.fills.{bot_id}"


@dataclass(frozen=True)
class Case:
    old: type[BaseModel]
    new: type[BaseModel]
    rules: frozenset[str]
    paths: dict[str, str] = field(default_factory=dict)  # rule id -> expected path
    open_enums: bool = False

    @property
    def name(self) -> str:
        return self.old.__name__.removesuffix("Old")


def case(
    old: type[BaseModel],
    new: type[BaseModel],
    *rules: str,
    open_enums: bool = False,
    **paths: str,
) -> Case:
    return Case(old, new, frozenset(rules), paths, open_enums)


CASES = [
    # the set and order of fields
    case(p.RemovedOld, p.RemovedNew, "C201", C201="$.b"),
    case(p.RemovedOptionalOld, p.RemovedOptionalNew, "C201", C201="$.note"),
    case(p.RenamedOld, p.RenamedNew, "C202", C202="$.qty"),
    case(p.ReplacedOld, p.ReplacedNew, "C201", "C203", C201="$.b", C203="$.c"),
    case(p.AddedRequiredOld, p.AddedRequiredNew, "C203", C203="$.b"),
    case(p.AddedOptionalOld, p.AddedOptionalNew),
    case(p.InsertedOld, p.InsertedNew, "C204", C204="$.x"),
    case(p.InsertedRequiredOld, p.InsertedRequiredNew, "C203", "C204", C204="$.x"),
    case(p.ReorderedOld, p.ReorderedNew, "C205", C205="$"),
    case(p.RenamedAndAppendedOld, p.RenamedAndAppendedNew, "C202", C202="$.b"),
    # nested models and arrays of models
    case(p.NestedRemovedOld, p.NestedRemovedNew, "C201", C201="$.leg.price"),
    case(p.ItemRemovedOld, p.ItemRemovedNew, "C201", C201="$.legs[].price"),
    case(p.NestedAddedOld, p.NestedAddedNew),
    case(p.NestedRetypedOld, p.NestedRetypedNew, "C301", C301="$.leg.price"),
    case(p.NestedDocOld, p.NestedDocNew, "C401", C401="$.leg"),
    case(p.RecursiveSameOld, p.RecursiveSameNew),
    case(p.RecursiveOld, p.RecursiveNew, "C301", C301="$.root.value"),
    case(p.ModelToStrOld, p.ModelToStrNew, "C301", "C402"),
    # types
    case(v.IntToStrOld, v.IntToStrNew, "C301", C301="$.qty"),
    case(v.IntToFloatOld, v.IntToFloatNew, "C302"),
    case(v.FloatToIntOld, v.FloatToIntNew, "C303"),
    case(v.DecimalToFloatOld, v.DecimalToFloatNew, "C303"),
    case(v.FloatToDecimalOld, v.FloatToDecimalNew, "C302"),
    case(v.StrToUuidOld, v.StrToUuidNew, "C304"),
    case(v.UuidToStrOld, v.UuidToStrNew, "C304"),
    case(v.DatetimeToDateOld, v.DatetimeToDateNew, "C304"),
    case(v.ListItemOld, v.ListItemNew, "C301", C301="$.xs[]"),
    case(v.ListToTupleOld, v.ListToTupleNew, "C301"),
    case(v.MapValueOld, v.MapValueNew, "C301", C301="$.m.*"),
    case(v.UnionNarrowedOld, v.UnionNarrowedNew, "C303"),
    case(v.UnionWidenedOld, v.UnionWidenedNew, "C302"),
    case(v.ConstChangedOld, v.ConstChangedNew, "C305", "C403"),
    case(v.EnumToStrOld, v.EnumToStrNew, "C302"),
    case(v.StrToEnumOld, v.StrToEnumNew, "C303"),
    case(v.AnyToIntOld, v.AnyToIntNew, "C303"),
    # required and null
    case(v.MadeRequiredOld, v.MadeRequiredNew, "C311", C311="$.x"),
    case(v.MadeOptionalOld, v.MadeOptionalNew, "C312", C312="$.x"),
    case(v.NullAddedOld, v.NullAddedNew, "C314"),
    case(v.NullRemovedOld, v.NullRemovedNew, "C313", "C403"),
    case(v.OptionalModelRequiredOld, v.OptionalModelRequiredNew, "C311", "C313"),
    # enums
    case(v.EnumValueRemovedOld, v.EnumValueRemovedNew, "C321", C321="$.side"),
    case(v.EnumValueAddedOld, v.EnumValueAddedNew, "C322"),
    case(v.EnumValueAddedOld, v.EnumValueAddedNew, "C322", open_enums=True),
    case(v.EnumSwappedOld, v.EnumSwappedNew, "C321", "C322"),
    case(v.LiteralAddedOld, v.LiteralAddedNew, "C322"),
    case(v.EnumListOld, v.EnumListNew, "C322", C322="$.sides[]"),
    case(v.OptionalEnumOld, v.OptionalEnumNew, "C321"),
    # constraints
    case(v.GeToGtOld, v.GeToGtNew, "C331"),
    case(v.GtToGeOld, v.GtToGeNew, "C332"),
    case(v.MaxLengthDownOld, v.MaxLengthDownNew, "C331"),
    case(v.MaxLengthUpOld, v.MaxLengthUpNew, "C332"),
    case(v.MinLengthAddedOld, v.MinLengthAddedNew, "C331"),
    case(v.PatternChangedOld, v.PatternChangedNew, "C331"),
    case(v.PatternRemovedOld, v.PatternRemovedNew, "C332"),
    case(v.MaxItemsAddedOld, v.MaxItemsAddedNew, "C331", C331="$.xs"),
    case(v.MultipleLoosenedOld, v.MultipleLoosenedNew, "C332"),
    case(v.MultipleTightenedOld, v.MultipleTightenedNew, "C331"),
    case(v.DecimalBoundOld, v.DecimalBoundNew, "C331", C331="$.qty"),
    case(v.UpperBoundOld, v.UpperBoundNew, "C331"),
    case(v.SetToListOld, v.SetToListNew, "C332"),
    case(v.NestedForbidOld, v.NestedForbidNew, "C331", C331="$.part"),
    case(v.PriceGtToGeOld, v.PriceGtToGeNew, "C332", C332="$.price"),
    case(v.LowerBoundRemovedOld, v.LowerBoundRemovedNew, "C332", C332="$.version"),
    case(v.NestedOpenedOld, v.NestedOpenedNew, "C332", C332="$.part"),
    # documentation
    case(m.DescriptionOld, m.DescriptionNew, "C401", C401="$.ts_ms"),
    case(m.TitleOld, m.TitleNew, "C402"),
    case(m.DefaultOld, m.DefaultNew, "C403"),
    case(m.ExamplesOld, m.ExamplesNew, "C404"),
    case(m.DeprecatedOld, m.DeprecatedNew, "C405"),
    case(m.DescribedBoundOld, m.DescribedBoundNew, "C401"),
    # unions of models
    case(m.MemberAddedOld, m.MemberAddedNew, "C302", "C402"),
    case(m.MemberRemovedOld, m.MemberRemovedNew, "C303", "C402"),
    case(m.MemberChangedOld, m.MemberChangedNew, "C301", C301="$.account.amount"),
    # schema_version
    case(m.VersionRemovedOld, m.VersionRemovedNew, "C104", C104="$.schema_version"),
    case(m.VersionRetypedOld, m.VersionRetypedNew, "C105", C105="$.schema_version"),
]


def _id(c: Case) -> str:
    return c.name + ("-open" if c.open_enums else "")


@pytest.mark.parametrize("c", CASES, ids=_id)
def test_case_reports_exactly_its_rules(c: Case) -> None:
    old = c.old.model_json_schema(mode="validation")
    new = c.new.model_json_schema(mode="validation")
    findings = diff_revision(old, new, subject=SUBJECT, version=1, open_enums=c.open_enums)
    assert {f.rule for f in findings} == c.rules, [str(f) for f in findings]
    for rule, path in c.paths.items():
        assert path in {f.path for f in findings if f.rule == rule}, [str(f) for f in findings]
    assert all(f.subject == SUBJECT and f.version == 1 for f in findings)


@pytest.mark.parametrize("c", CASES, ids=_id)
def test_each_model_compared_with_itself_reports_nothing(c: Case) -> None:
    for model in (c.old, c.new):
        schema = model.model_json_schema(mode="validation")
        assert diff_revision(schema, schema, subject=SUBJECT, version=1) == []


def test_every_rule_of_a_diff_is_exercised_by_a_case() -> None:
    exercised = set().union(*(c.rules for c in CASES))
    single_schema = {"C101", "C102", "C103"}  # check_schema, covered in test_check_schema.py
    assert exercised | single_schema == set(RULES)


def test_added_enum_value_breaks_unless_consumers_accept_unknown_values() -> None:
    old = v.EnumValueAddedOld.model_json_schema(mode="validation")
    new = v.EnumValueAddedNew.model_json_schema(mode="validation")
    (closed,) = diff_revision(old, new, subject=SUBJECT, version=1)
    (opened,) = diff_revision(old, new, subject=SUBJECT, version=1, open_enums=True)
    assert (closed.severity, opened.severity) == (Severity.ERROR, Severity.WARNING)
    assert (closed.path, closed.old, closed.new) == ("$.side", None, "close")


def test_documentation_and_order_only_warn() -> None:
    warn_only = [c for c in CASES if c.rules and c.rules <= {"C205", "C401", "C402", "C403", "C404", "C405"}]
    assert len(warn_only) >= 8
    for c in warn_only:
        old = c.old.model_json_schema(mode="validation")
        new = c.new.model_json_schema(mode="validation")
        findings = diff_revision(old, new, subject=SUBJECT, version=1)
        assert {f.severity for f in findings} == {Severity.WARNING}, c.name


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        (v.GeToGtOld, v.GeToGtNew, "C331"),
        (v.GtToGeOld, v.GtToGeNew, "C332"),
        (v.PriceGtToGeOld, v.PriceGtToGeNew, "C332"),
        (v.MaxLengthUpOld, v.MaxLengthUpNew, "C332"),
        (v.PatternRemovedOld, v.PatternRemovedNew, "C332"),
        (v.IntToFloatOld, v.IntToFloatNew, "C302"),
        (v.FloatToIntOld, v.FloatToIntNew, "C303"),
        (v.EnumValueAddedOld, v.EnumValueAddedNew, "C322"),
        (v.EnumValueRemovedOld, v.EnumValueRemovedNew, "C321"),
    ],
)
def test_constraints_break_both_ways_like_types_and_enums(
    old: type[BaseModel], new: type[BaseModel], rule: str
) -> None:
    """A tightening rejects old events; a loosening (`gt=0` -> `ge=0`) sends old consumers a value
    they reject: both need a new version, as widening and narrowing a type or an enum do."""
    findings = diff_revision(
        old.model_json_schema(mode="validation"),
        new.model_json_schema(mode="validation"),
        subject=SUBJECT,
        version=1,
    )
    assert [(f.rule, f.severity) for f in findings] == [(rule, Severity.ERROR)]


def test_loosened_bound_shows_both_keywords() -> None:
    old = v.PriceGtToGeOld.model_json_schema(mode="validation")
    new = v.PriceGtToGeNew.model_json_schema(mode="validation")
    (finding,) = diff_revision(old, new, subject=SUBJECT, version=1)
    assert str(finding) == (
        "C332 error trading.fills.{bot_id} v1 $.price: lower bound loosened"
        ' (old={"exclusiveMinimum":0}, new={"minimum":0})'
    )


def test_rename_names_both_fields() -> None:
    old = p.RenamedOld.model_json_schema(mode="validation")
    new = p.RenamedNew.model_json_schema(mode="validation")
    (finding,) = diff_revision(old, new, subject=SUBJECT, version=1)
    assert (finding.rule, finding.old, finding.new) == ("C202", "qty", "quantity")
    assert str(finding) == (
        "C202 error trading.fills.{bot_id} v1 $.qty: field 'qty' renamed to 'quantity'"
        ' (old="qty", new="quantity")'
    )


def test_tightened_bound_shows_both_keywords() -> None:
    old = v.GeToGtOld.model_json_schema(mode="validation")
    new = v.GeToGtNew.model_json_schema(mode="validation")
    (finding,) = diff_revision(old, new, subject=SUBJECT, version=1)
    assert (finding.old, finding.new) == ({"minimum": 0}, {"exclusiveMinimum": 0})

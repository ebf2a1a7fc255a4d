"""The wire check: examples encoded by the codec and validated against the locked revisions (C7xx)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ConfigDict

from registry.compat.findings import Severity
from registry.compat.gate import gate
from registry.compat.lock import Lock, current
from registry.event import Event
from schemas import REGISTRY

from . import pairs_wire as w
from .gate_models import TEMPLATE, registry, widgets

PAIRS = [
    (w.DecimalWireOld, w.DecimalWireNew, "C702", "$.qty"),
    (w.ExampleInvalidOld, w.ExampleInvalidNew, "C701", "$"),
    (w.RoundTripOld, w.RoundTripNew, "C703", "$"),
]


def wire_findings(old: type[Event], new: type[Event]) -> list[Any]:
    baseline = current(registry(widgets(old)))
    return [f for f in gate(registry(widgets(new)), baseline, lock_warnings=False) if f.rule.startswith("C7")]


@pytest.mark.parametrize(("old", "new", "rule", "path"), PAIRS, ids=lambda x: getattr(x, "__name__", x))
def test_before_is_clean_and_after_reports_its_rule(
    old: type[Event], new: type[Event], rule: str, path: str
) -> None:
    assert old.model_json_schema(mode="validation") == new.model_json_schema(mode="validation")
    assert wire_findings(old, old) == []
    found = wire_findings(old, new)
    assert [(f.rule, f.severity, f.subject, f.version, f.path) for f in found] == [
        (rule, Severity.ERROR, TEMPLATE, 1, path)
    ]


def test_a_decimal_sent_as_a_number_names_the_revision_and_the_reason() -> None:
    (found,) = wire_findings(w.DecimalWireOld, w.DecimalWireNew)
    assert str(found) == (
        f"C702 error {TEMPLATE} v1 $.qty: DecimalWireNew.EXAMPLES[0] encodes to JSON locked revision 1 "
        "rejects: 0.015 is not of type 'string'"
    )


def test_every_locked_revision_is_checked() -> None:
    baseline = current(registry(widgets(w.DecimalWireOld)))
    (entry,) = baseline.subjects.values()
    revision = entry.versions[1][0]
    loose = {**revision, "properties": {**revision["properties"], "qty": {"type": "number"}}}
    # revision 1 took qty as a number, revision 2 (the current one) as a string: the example must fit both
    two = Lock({entry.name: type(entry)(entry.name, entry.channel, {1: (loose, revision)})})
    found = [
        f for f in gate(registry(widgets(w.DecimalWireOld)), two, lock_warnings=False) if f.rule == "C702"
    ]
    assert [f.message.split(" rejects")[0] for f in found] == [
        "DecimalWireOld.EXAMPLES[0] encodes to JSON locked revision 1"
    ]


def test_a_new_subject_is_checked_against_its_current_schema() -> None:
    found = [
        f for f in gate(registry(widgets(w.DecimalWireNew)), Lock(), lock_warnings=False) if f.rule == "C702"
    ]
    assert len(found) == 1
    assert "the current schema rejects" in found[0].message


def test_examples_are_not_inherited() -> None:
    class Child(w.DecimalWireOld, version=1, name="Widget"):
        model_config = ConfigDict(title="Widget")
        qty: int  # type: ignore[assignment]

    assert wire_findings(Child, Child) == []


def test_the_real_payloads_declare_examples_that_pass() -> None:
    for subject in REGISTRY.subjects:
        assert subject.payload.__dict__.get("EXAMPLES"), subject.template_text
    assert [
        f for f in gate(REGISTRY, current(REGISTRY), lock_warnings=False) if f.rule.startswith("C7")
    ] == []


def test_an_invalid_example_says_which_field_and_why() -> None:
    (found,) = wire_findings(w.ExampleInvalidOld, w.ExampleInvalidNew)
    assert found.message == (
        "ExampleInvalidNew.EXAMPLES[0] is not a valid ExampleInvalidNew: "
        "price: Input should be greater than 0"
    )

"""`Finding` rendering and the rule table."""

from __future__ import annotations

import json
import re

import pytest

from registry.compat import RULES, Finding, Severity, diff_revision
from registry.compat.rules import BY_ID

from . import pairs_values as v


def test_one_line_rendering_names_rule_subject_version_path_and_values() -> None:
    finding = Finding(
        rule="C301",
        severity=Severity.ERROR,
        subject="trading.fills.{bot_id}",
        version=1,
        path="$.qty",
        message="type changed from integer to string",
        old="integer",
        new="string",
    )
    assert str(finding) == (
        "C301 error trading.fills.{bot_id} v1 $.qty: type changed from integer to string"
        ' (old="integer", new="string")'
    )


def test_values_are_left_out_when_there_are_none() -> None:
    finding = Finding("C101", Severity.ERROR, "risk.commands", 2, "$.schema_version", "missing")
    assert str(finding) == "C101 error risk.commands v2 $.schema_version: missing"


def test_to_dict_is_json_and_round_trips() -> None:
    old = v.GeToGtOld.model_json_schema(mode="validation")
    new = v.GeToGtNew.model_json_schema(mode="validation")
    (finding,) = diff_revision(old, new, subject="s.{x}", version=3)
    data = json.loads(json.dumps(finding.to_dict()))
    assert data == {
        "rule": "C331",
        "severity": "error",
        "subject": "s.{x}",
        "version": 3,
        "path": "$.qty",
        "message": "lower bound tightened",
        "old": {"minimum": 0},
        "new": {"exclusiveMinimum": 0},
    }
    assert Finding(**{**data, "severity": Severity(data["severity"])}) == finding


def test_findings_are_frozen() -> None:
    finding = Finding("C201", Severity.ERROR, "s", 1, "$.a", "removed")
    with pytest.raises(AttributeError):
        finding.rule = "C202"  # type: ignore[misc]


def test_rule_table_ids_and_descriptions() -> None:
    assert list(RULES) == sorted(RULES)
    for rule_id, summary in RULES.items():
        assert re.fullmatch(r"C[1-4]\d\d", rule_id)
        assert summary
        assert "\n" not in summary
        assert BY_ID[rule_id].summary == summary
    warnings = {rule_id for rule_id, rule in BY_ID.items() if rule.severity is Severity.WARNING}
    assert warnings == {"C205", "C401", "C402", "C403", "C404", "C405"}


def test_a_finding_about_the_whole_subject_prints_no_version() -> None:
    finding = Finding(
        "C609", Severity.ERROR, "trading.fills.{bot_id}", None, "$", "consumer durable x removed"
    )
    assert str(finding) == "C609 error trading.fills.{bot_id} $: consumer durable x removed"
    assert json.loads(json.dumps(finding.to_dict()))["version"] is None

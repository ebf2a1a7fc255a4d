"""The schema lock: its document, round trips, appending revisions, and older revisions still checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gordon.commands.schemas import LOCK_PATH
from registry.compat.export import LOCK_COMMENT, dumps, export
from registry.compat.findings import Finding, Severity
from registry.compat.gate import gate
from registry.compat.lock import (
    Lock,
    LockedSubject,
    LockError,
    current,
    loads,
    read,
    to_document,
    updated,
    write,
)
from schemas import REGISTRY

from .gate_models import TEMPLATE, WidgetNoSide, WidgetV1, WidgetV2, WidgetWithNote, registry, widgets


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def test_document_shape_and_property_order() -> None:
    document = to_document(current(registry(widgets(WidgetWithNote))))
    assert document["_comment"] == LOCK_COMMENT
    assert "gordon schemas lock" in document["_comment"]
    assert "gordon schemas check" in document["_comment"]
    entry = document["subjects"][TEMPLATE]
    assert entry["template"] == TEMPLATE
    assert list(entry["params"]) == ["bot_id"]
    assert entry["params"]["bot_id"] == []
    assert entry["producer"] == "executor"
    assert entry["consumers"] == ["manager-widgets"]
    assert entry["messages"] == ["Widget.v1"]
    (schema,) = entry["versions"]["1"]
    assert schema == WidgetWithNote.model_json_schema(mode="validation")
    assert list(schema["properties"]) == ["schema_version", "event_id", "qty", "side", "note"]


def test_round_trip_and_stable_text() -> None:
    lock = current(registry(widgets(WidgetV1, WidgetV2)))
    text = dumps(to_document(lock))
    assert loads(text) == lock
    assert dumps(to_document(loads(text))) == text
    assert list(json.loads(text)["subjects"][TEMPLATE]["versions"]) == ["1", "2"]


def test_write_then_read(tmp_path: Path) -> None:
    path = tmp_path / "schemas.lock.json"
    assert read(path) is None
    lock = current(registry(widgets(WidgetV1)))
    write(path, lock)
    assert read(path) == lock
    assert not list(tmp_path.glob("*.tmp"))


def test_locked_registry_checks_clean() -> None:
    reg = registry(widgets(WidgetV1, WidgetV2))
    assert gate(reg, current(reg)) == []


def test_additive_field_warns_then_locks_as_a_second_revision() -> None:
    lock = current(registry(widgets(WidgetV1)))
    grown = registry(widgets(WidgetWithNote))
    findings = gate(grown, lock)
    assert rules(findings) == ["C505"]  # compatible: only "the lock does not record it yet"
    assert findings[0].severity is Severity.WARNING
    lock, changes = updated(lock, current(grown))
    assert changes == [f"{TEMPLATE} v1: revision 2"]
    revisions = lock.subjects[TEMPLATE].versions[1]
    assert [list(r["properties"]) for r in revisions] == [
        ["schema_version", "event_id", "qty", "side"],
        ["schema_version", "event_id", "qty", "side", "note"],
    ]
    assert gate(grown, lock) == []
    assert updated(lock, current(grown)) == (lock, [])


def test_removing_the_field_revision_2_added_breaks_against_revision_2() -> None:
    # revision 1 never had `note`, so against it the removal is invisible; revision 2 released it
    lock, _ = updated(current(registry(widgets(WidgetV1))), current(registry(widgets(WidgetWithNote))))
    findings = errors(gate(registry(widgets(WidgetV1)), lock))
    assert [(f.rule, f.path) for f in findings] == [("C201", "$.note"), ("C501", "$")]
    assert "against locked revision 2" in findings[0].message


def test_older_revisions_are_still_checked() -> None:
    # a hand-made history: revision 1 had `side`, revision 2 (the newest) did not
    no_side = current(registry(widgets(WidgetNoSide))).subjects[TEMPLATE]
    with_side = current(registry(widgets(WidgetV1))).subjects[TEMPLATE]
    entry = LockedSubject(TEMPLATE, no_side.channel, {1: (*with_side.versions[1], *no_side.versions[1])})
    findings = errors(gate(registry(widgets(WidgetNoSide)), Lock({TEMPLATE: entry})))
    assert [(f.rule, f.path, f.version) for f in findings] == [("C201", "$.side", 1), ("C501", "$", 1)]
    assert "against locked revision 1" in findings[0].message


def test_a_finding_against_two_revisions_is_reported_once() -> None:
    lock, _ = updated(current(registry(widgets(WidgetV1))), current(registry(widgets(WidgetWithNote))))
    findings = gate(registry(widgets(WidgetNoSide)), lock)
    side = [f for f in findings if f.path == "$.side"]
    assert len(side) == 1
    assert "against locked revision 2" in side[0].message


def test_reordered_properties_are_a_new_revision() -> None:
    lock = current(registry(widgets(WidgetV1)))
    schema = dict(lock.subjects[TEMPLATE].versions[1][0])
    properties = schema["properties"]
    schema["properties"] = dict(reversed(list(properties.items())))
    entry = lock.subjects[TEMPLATE]
    shuffled = Lock({TEMPLATE: LockedSubject(TEMPLATE, entry.channel, {1: (schema,)})})
    merged, changes = updated(lock, shuffled)
    assert changes == [f"{TEMPLATE} v1: revision 2"]
    assert len(merged.subjects[TEMPLATE].versions[1]) == 2


def test_new_versions_and_subjects_are_added_and_channel_facts_refreshed() -> None:
    lock = current(registry(widgets(WidgetV1)))
    grown = registry(widgets(WidgetV1, WidgetV2, template="trading.widgets.{bot_id}", name=TEMPLATE))
    merged, changes = updated(lock, current(grown))
    assert changes == [f"added {TEMPLATE} v2", f"{TEMPLATE}: channel facts updated"]
    assert merged.subjects[TEMPLATE].channel.messages == ("Widget.v1", "Widget.v2")
    merged, changes = updated(Lock(), current(grown))
    assert changes == [f"added {TEMPLATE} v1, v2"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], '"subjects" object'),
        ({"subjects": {"a": []}}, "subject 'a': not an object"),
        ({"subjects": {"a": {"params": {}, "versions": {"x": [{}]}}}}, "version 'x'"),
        ({"subjects": {"a": {"params": {}, "versions": {"1": []}}}}, "non-empty list"),
        ({"subjects": {"a": {"params": {}, "versions": {"1": [1]}}}}, "not an object"),
        ({"subjects": {"a": {"params": {}, "versions": {}}}}, "'template' must be a JSON str"),
    ],
)
def test_malformed_documents_name_the_problem(document: object, problem: str) -> None:
    with pytest.raises(LockError) as caught:
        loads(json.dumps(document))
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_json_is_a_lock_error() -> None:
    with pytest.raises(LockError, match="not JSON"):
        loads("{")


def test_checked_in_lock_is_canonical_and_records_the_registry() -> None:
    text = LOCK_PATH.read_text(encoding="utf-8")
    lock = loads(text)
    assert dumps(to_document(lock)) == text  # what `gordon schemas lock` writes, byte for byte
    assert updated(lock, current(REGISTRY))[1] == []
    assert set(lock.subjects) == set(export(REGISTRY)["subjects"])

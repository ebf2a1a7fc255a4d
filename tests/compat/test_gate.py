"""The gate's registry-level rules: versions against the lock (8), migration windows (9), channels (10),
and registry lint findings in the same shape."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from registry.compat.findings import Finding, Severity
from registry.compat.gate import ALL_RULES, gate
from registry.compat.lock import Lock, LockedSubject, current
from registry.compat.versions import schema_findings
from registry.registry import Registry
from registry.subject import ConsumerSpec, MigrationWindow, Service, Subject
from registry.tokens import Param, enum_param
from schemas.common import BOT_ID, BOT_UUID

from .gate_models import (
    COLOR,
    FAR,
    MANAGER,
    RISK,
    TEMPLATE,
    UPCASTERS,
    Gadget,
    WidgetNoSide,
    WidgetV1,
    WidgetV2,
    WidgetV2Additive,
    WidgetV3,
    gadgets,
    registry,
    widgets,
)

TODAY = date(2030, 6, 1)


def locked(*subjects: Subject[Any]) -> Lock:
    return current(registry(*subjects))


def check(reg: Registry, lock: Lock) -> list[Finding]:
    return gate(reg, lock, today=TODAY, lock_warnings=False)


def ids(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def test_removed_field_names_rule_subject_version_and_path() -> None:
    findings = check(registry(widgets(WidgetNoSide)), locked(widgets(WidgetV1)))
    assert [(f.rule, f.subject, f.version, f.path) for f in findings] == [
        ("C201", TEMPLATE, 1, "$.side"),
        ("C501", TEMPLATE, 1, "$"),
    ]
    assert all(f.severity is Severity.ERROR for f in findings)
    assert "declare the change as v2" in findings[1].message


def test_a_break_declared_as_a_new_version_passes() -> None:
    assert check(registry(widgets(WidgetV1, WidgetV2)), locked(widgets(WidgetV1))) == []


def test_a_new_version_without_a_break_warns() -> None:
    findings = check(registry(widgets(WidgetV1, WidgetV2Additive)), locked(widgets(WidgetV1)))
    assert ids(findings) == ["C502"]
    assert findings[0].severity is Severity.WARNING
    assert findings[0].version == 2


def test_a_locked_version_that_is_gone_breaks() -> None:
    findings = check(registry(widgets(WidgetV2)), locked(widgets(WidgetV1, WidgetV2)))
    assert ("C503", 1) in [(f.rule, f.version) for f in findings]
    assert ("C607", 1) in [(f.rule, f.version) for f in findings]  # the channel lost Widget.v1


def test_lock_warnings_name_unrecorded_versions() -> None:
    findings = gate(registry(widgets(WidgetV1, WidgetV2)), locked(widgets(WidgetV1)), today=TODAY)
    assert [(f.rule, f.version) for f in findings] == [("C505", 2), ("C505", None)]


def test_schema_of_each_current_version_is_checked_alone() -> None:
    reg = registry(widgets(WidgetV1))
    lock = locked(widgets(WidgetV1))
    entry = lock.subjects[TEMPLATE]
    schema = dict(entry.versions[1][0])
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k != "schema_version"}
    broken = LockedSubject(TEMPLATE, entry.channel, {1: (schema,)})
    assert ids(schema_findings(broken)) == ["C101"]
    assert check(reg, lock) == []


# migration windows


def test_missing_window() -> None:
    findings = check(registry(widgets(WidgetV1, WidgetV2, windows=())), locked(widgets(WidgetV1)))
    assert [(f.rule, f.version) for f in findings] == [("C511", 1)]


def test_window_expires_after_its_date() -> None:
    window = MigrationWindow(1, 2, date(2030, 5, 31), "test")
    reg = registry(widgets(WidgetV1, WidgetV2, windows=(window,)))
    lock = locked(widgets(WidgetV1))
    findings = check(reg, lock)
    assert [(f.rule, f.version, f.old) for f in findings] == [("C514", 1, "2030-05-31")]
    assert "expired on 2030-05-31" in findings[0].message
    assert gate(reg, lock, today=date(2030, 5, 31), lock_warnings=False) == []


def test_window_needs_registered_versions_and_a_date() -> None:
    bad = (
        MigrationWindow(1, 2, FAR, "ok"),
        MigrationWindow(1, 7, FAR, "v7 does not exist"),
        MigrationWindow(2, 1, FAR, "backwards"),
        MigrationWindow(1, 2, None, "no date"),  # type: ignore[arg-type]
    )
    findings = check(registry(widgets(WidgetV1, WidgetV2, windows=bad)), locked(widgets(WidgetV1)))
    assert ids(findings) == ["C512", "C512", "C513"]


def test_missing_upcaster_and_consumers_that_cannot_get_the_version() -> None:
    reg = registry(widgets(WidgetV1, WidgetV2, upcasters=(), consumers=(MANAGER, RISK)))
    findings = check(reg, locked(widgets(WidgetV1)))
    lint = [f for f in findings if f.rule.startswith("L")]
    assert [(f.rule, f.version, f.path) for f in lint] == [("L107", None, "$")]
    gate_rules = [(f.rule, f.version) for f in findings if f.rule.startswith("C")]
    assert gate_rules == [("C515", 1), ("C516", 1), ("C516", 1)]
    assert {f.message.split()[1] for f in findings if f.rule == "C516"} == {"manager-widgets", "risk-widgets"}


def test_a_chain_broken_in_the_middle_strands_every_version_before_the_gap() -> None:
    reg = registry(widgets(WidgetV1, WidgetV2, WidgetV3, upcasters=(UPCASTERS[1],)))
    findings = [f for f in check(reg, locked(widgets(WidgetV1))) if f.rule.startswith("C")]
    assert [(f.rule, f.version, f.new) for f in findings] == [
        ("C515", 2, None),
        ("C516", 1, 2),
        ("C516", 2, 2),
    ]


def test_a_full_chain_with_windows_passes() -> None:
    reg = registry(widgets(WidgetV1, WidgetV2, WidgetV3, consumers=(MANAGER, RISK)))
    assert check(reg, locked(widgets(WidgetV1, WidgetV2))) == []


# channel rules


def channel_findings(old: Subject[Any], new: Subject[Any]) -> list[tuple[str, object, object]]:
    return [(f.rule, f.old, f.new) for f in check(registry(new), locked(old))]


def test_removed_subject() -> None:
    findings = check(registry(widgets(WidgetV1)), locked(widgets(WidgetV1), gadgets()))
    assert [(f.rule, f.subject) for f in findings] == [("C601", "trading.gadgets.{color}")]


def test_template_change_is_reported_as_such() -> None:
    moved = widgets(WidgetV1, template="trading.gizmos.{bot_id}")
    assert channel_findings(widgets(WidgetV1), moved) == [("C602", TEMPLATE, "trading.gizmos.{bot_id}")]


def test_parameter_added_removed_and_renamed() -> None:
    base = widgets(WidgetV1, name="w")
    bot = Param("bot", BOT_ID.pattern, "renamed bot_id")
    added = widgets(WidgetV1, name="w", template=TEMPLATE + ".{color}", params=(BOT_ID, COLOR))
    removed = widgets(WidgetV1, name="w", template="trading.widgets", params=())
    renamed = widgets(WidgetV1, name="w", template="trading.widgets.{bot}", params=(bot,))
    assert [r for r, *_ in channel_findings(base, added)] == ["C602", "C603"]
    assert [r for r, *_ in channel_findings(base, removed)] == ["C602", "C604"]
    assert channel_findings(base, renamed)[1] == ("C605", "bot_id", "bot")


def test_enum_parameter_values() -> None:
    fewer = enum_param("color", ("red", "green"), "Paint colour")
    more = enum_param("color", ("red", "green", "blue", "black"), "Paint colour")
    free = Param("color", "[a-z]+", "any colour")
    assert channel_findings(gadgets(), gadgets(params=(fewer,))) == [("C606", "blue", None)]
    assert channel_findings(gadgets(), gadgets(params=(more,))) == []
    assert channel_findings(gadgets(), gadgets(params=(free,))) == []


def test_message_removed_when_a_payload_is_renamed() -> None:
    renamed = Subject(TEMPLATE, Gadget, producer=Service.EXECUTOR, params=(BOT_ID,), consumers=(MANAGER,))
    findings = channel_findings(widgets(WidgetV1), renamed)
    assert ("C607", "Widget.v1", None) in findings


def test_producer_changed_and_durables() -> None:
    base = widgets(WidgetV1, consumers=(MANAGER, RISK))
    assert channel_findings(base, widgets(WidgetV1, consumers=(MANAGER, RISK), producer=Service.RISK)) == [
        ("C608", "executor", "risk")
    ]
    assert channel_findings(base, widgets(WidgetV1, consumers=(MANAGER,))) == [("C609", "risk-widgets", None)]
    bots = ConsumerSpec(Service.BOT, "bot-{bot_id}-widgets", instance=(BOT_UUID,))
    assert channel_findings(base, widgets(WidgetV1, consumers=(MANAGER, RISK, bots))) == []


# lint and the rule table


def test_lint_findings_come_first_in_the_same_shape() -> None:
    loud = widgets(WidgetV1, template="trading.Widgets.{bot_id}")
    findings = check(registry(loud), locked(loud))
    assert [(f.rule, f.severity, f.subject, f.version, f.path) for f in findings] == [
        ("L105", Severity.ERROR, "trading.Widgets.{bot_id}", None, "$")
    ]
    assert str(findings[0]).startswith("L105 error trading.Widgets.{bot_id} $: token 'Widgets'")


@pytest.mark.parametrize("prefix", ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "L1"])
def test_rule_table_covers_every_family(prefix: str) -> None:
    assert any(rule_id.startswith(prefix) for rule_id in ALL_RULES)


def test_rule_ids_are_unique_across_tables() -> None:
    from registry.compat.gate_rules import GATE_RULES
    from registry.compat.rules import RULES
    from registry.lint import LINT_RULES

    assert len(ALL_RULES) == len(RULES) + len(GATE_RULES) + len(LINT_RULES)


def test_subject_level_findings_print_no_version() -> None:
    removed = check(registry(widgets(WidgetV1)), locked(widgets(WidgetV1), gadgets()))
    moved = check(registry(widgets(WidgetV1, template="trading.gizmos.{bot_id}")), locked(widgets(WidgetV1)))
    lines = [str(f) for f in removed + moved]
    assert lines[0] == (
        "C601 error trading.gadgets.{color} $: subject trading.gadgets.{color} was removed"
        ' (old="trading.gadgets.{color}", new=null)'
    )
    assert lines[1].startswith("C602 error trading.gizmos.{bot_id} $: subject template changed")
    assert all(" v0 " not in line for line in lines)
    assert {f.version for f in removed + moved} == {None}
    assert removed[0].to_dict()["version"] is None

"""The compatibility gate: registry lint plus every compat rule, the registry against a baseline (the
lock, or the registry at another git ref). Pure: the caller reads the baseline and picks `today`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Final

from registry.compat.channels import compare_channels
from registry.compat.findings import Finding, Severity
from registry.compat.gate_rules import GATE_BY_ID, finding
from registry.compat.lock import Lock, LockedSubject, current
from registry.compat.rules import BY_ID
from registry.compat.versions import added_subject, compare_versions, schema_findings
from registry.compat.windows import check_windows
from registry.compat.wire import check_examples
from registry.lint import LINT_RULES, lint
from registry.registry import Registry

ALL_RULES: Final[Mapping[str, tuple[Severity, str]]] = MappingProxyType(
    {
        **{rule_id: (rule.severity, rule.summary) for rule_id, rule in BY_ID.items()},
        **{rule_id: (rule.severity, rule.summary) for rule_id, rule in GATE_BY_ID.items()},
        **{rule_id: (Severity.ERROR, summary) for rule_id, summary in LINT_RULES.items()},
    }
)
"""Every rule id the gate can report (C* compatibility, L* lint): its severity and what it means."""


def gate(
    registry: Registry, baseline: Lock, *, today: date | None = None, lock_warnings: bool = True
) -> list[Finding]:
    """Every finding of `registry` against `baseline`: lint first, then subject by subject.

    `lock_warnings` adds C505 where the registry differs from the baseline in a compatible way (it is
    a lock that needs `gordon schemas lock`); with another git ref as the baseline, turn it off.
    """
    found = [Finding(f.rule, Severity.ERROR, f.subject, None, "$", f.message) for f in lint(registry)]
    now = current(registry)
    found += compare(baseline, now, lock_warnings=lock_warnings)
    for subject in registry.subjects:
        found += check_windows(subject, today or date.today())
        found += check_examples(subject, baseline.subjects.get(subject.name), now.subjects[subject.name])
    return found


def compare(baseline: Lock, now: Lock, *, lock_warnings: bool = True) -> list[Finding]:
    """Version and channel findings of the registry `now` against `baseline`, both in lock shape."""
    pairs, removed, added = match_subjects(baseline, now)
    found: list[Finding] = []
    for old, new in pairs:
        found += schema_findings(new)
        found += compare_channels(old.channel, new.channel)
        found += compare_versions(old, new, lock_warnings=lock_warnings)
        if lock_warnings and old.channel != new.channel:
            found.append(finding("C505", new.channel.template, None, "channel facts changed since the lock"))
    for old in removed:
        template = old.channel.template
        found.append(finding("C601", template, None, f"subject {old.name} was removed", template, None))
    for new in added:
        found += schema_findings(new)
        found += added_subject(new, lock_warnings=lock_warnings)
    return found


def match_subjects(
    baseline: Lock, now: Lock
) -> tuple[list[tuple[LockedSubject, LockedSubject]], list[LockedSubject], list[LockedSubject]]:
    """Pairs of (baseline, current) subjects, then the removed and the added ones.

    Subjects pair by name; a baseline subject whose name is gone pairs with a new one carrying a
    message of the same payload name, so a changed template reads as such, not as remove and add.
    """
    pairs = [(old, now.subjects[name]) for name, old in baseline.subjects.items() if name in now.subjects]
    gone = [old for name, old in baseline.subjects.items() if name not in now.subjects]
    fresh = [new for name, new in now.subjects.items() if name not in baseline.subjects]
    removed: list[LockedSubject] = []
    for old in gone:
        names = _payload_names(old)
        twin = next((new for new in fresh if names & _payload_names(new)), None)
        if twin is None:
            removed.append(old)
        else:
            fresh.remove(twin)
            pairs.append((old, twin))
    return pairs, removed, fresh


def _payload_names(entry: LockedSubject) -> set[str]:
    return {message.rsplit(".v", 1)[0] for message in entry.channel.messages}


def error_count(findings: list[Finding]) -> int:
    return sum(1 for f in findings if f.severity is Severity.ERROR)

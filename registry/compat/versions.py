"""Payload versions against a baseline (checklist rules 1 and 8): every locked revision is diffed with
the current schema of its version, a break on a locked version asks for a new version, and a new
version with no break relative to the previous one warns."""

from __future__ import annotations

from dataclasses import replace

from registry.compat.check import check_schema
from registry.compat.diff import diff_revision
from registry.compat.export import Json
from registry.compat.findings import Finding, Severity
from registry.compat.gate_rules import finding
from registry.compat.lock import LockedSubject, same_schema

_VERSION_CONSTANT = frozenset({"C104", "C105"})
"""What always differs between two versions: their schema_version constant; not a break by itself."""


def compare_versions(old: LockedSubject, new: LockedSubject, *, lock_warnings: bool) -> list[Finding]:
    """Findings for every version of a subject present in the baseline `old`, the current `new`, or both."""
    subject = new.channel.template
    found: list[Finding] = []
    for number, revisions in old.versions.items():
        schemas = new.versions.get(number)
        if schemas is None:
            found.append(finding("C503", subject, number, f"v{number} is locked but no longer registered"))
            continue
        breaks = diff_revisions(revisions, schemas[0], subject=subject, version=number)
        found += breaks
        errors = [f for f in breaks if f.severity is Severity.ERROR]
        if errors:
            message = (
                f"{len(errors)} breaking change(s) to locked v{number}: restore it and declare "
                f"the change as v{max(new.versions) + 1} with an upcaster and a migration window"
            )
            found.append(finding("C501", subject, number, message))
        elif lock_warnings and not same_schema(revisions[-1], schemas[0]):
            message = f"v{number} differs from its last locked revision {len(revisions)}"
            found.append(finding("C505", subject, number, message))
    for number in new.versions:
        if number not in old.versions:
            found += new_version(new, number, lock_warnings=lock_warnings)
    return found


def added_subject(new: LockedSubject, *, lock_warnings: bool) -> list[Finding]:
    """Findings for a subject the baseline does not have: each version is new."""
    found: list[Finding] = []
    for number in new.versions:
        found += new_version(new, number, lock_warnings=lock_warnings)
    return found


def new_version(new: LockedSubject, number: int, *, lock_warnings: bool) -> list[Finding]:
    """A version the baseline lacks: it should break the previous version, else it is not needed."""
    subject = new.channel.template
    found: list[Finding] = []
    previous = new.versions.get(number - 1)
    if previous is not None:
        diff = diff_revision(previous[0], new.versions[number][0], subject=subject, version=number)
        if not any(f.severity is Severity.ERROR and f.rule not in _VERSION_CONSTANT for f in diff):
            message = (
                f"v{number} has no break relative to v{number - 1}: an additive change keeps "
                f"the version number"
            )
            found.append(finding("C502", subject, number, message))
    if lock_warnings:
        found.append(finding("C505", subject, number, f"v{number} is not locked yet"))
    return found


def diff_revisions(revisions: tuple[Json, ...], schema: Json, *, subject: str, version: int) -> list[Finding]:
    """`schema` diffed with every revision, newest first; a finding already made against a newer
    revision is not repeated, and with several revisions each names the one it was made against."""
    seen: set[tuple[str, str, str, str, str]] = set()
    found: list[Finding] = []
    for index in range(len(revisions) - 1, -1, -1):
        for item in diff_revision(revisions[index], schema, subject=subject, version=version):
            key = (item.rule, item.path, item.message, repr(item.old), repr(item.new))
            if key in seen:
                continue
            seen.add(key)
            if len(revisions) > 1:
                item = replace(item, message=f"{item.message} (against locked revision {index + 1})")
            found.append(item)
    return found


def schema_findings(new: LockedSubject) -> list[Finding]:
    """What each current schema must meet on its own (schema_version first and constant)."""
    subject = new.channel.template
    found: list[Finding] = []
    for number, (schema, *_) in new.versions.items():
        found += check_schema(schema, subject=subject, version=number)
    return found

"""Migration windows (checklist rule 9): a subject with more than one version accepts them side by side
only inside a declared window that has not expired, and every consumer gets the newest type by upcasting
each older version step by step."""

from __future__ import annotations

from datetime import date
from typing import Any

from registry.compat.findings import Finding
from registry.compat.gate_rules import finding
from registry.subject import Subject


def check_windows(subject: Subject[Any], today: date) -> list[Finding]:
    """Window, expiry, upcaster and consumer findings of one subject (none with a single version)."""
    name = subject.template_text
    numbers = [model.VERSION for model in subject.versions]
    newest = subject.payload.VERSION
    found: list[Finding] = []
    for window in subject.windows:
        if window.old not in numbers or window.new not in numbers or window.old >= window.new:
            message = f"window v{window.old} -> v{window.new} needs two registered versions, old first"
            found.append(finding("C512", name, window.old, message, window.old, window.new))
        if not isinstance(window.expires, date):
            message = f"window v{window.old} -> v{window.new} has no expiry date"
            found.append(finding("C513", name, window.old, message, None, repr(window.expires)))
        elif window.expires < today:
            message = (
                f"window v{window.old} -> v{window.new} expired on {window.expires.isoformat()}: "
                f"retire v{window.old} or extend the window"
            )
            found.append(finding("C514", name, window.old, message, window.expires.isoformat(), None))
    for number in numbers:
        if number == newest:
            continue
        if not any(w.old == number and w.new in numbers and w.new > number for w in subject.windows):
            message = f"v{number} is accepted beside v{newest} with no migration window declared"
            found.append(finding("C511", name, number, message))
    found += _upcasting(subject, numbers, newest)
    return found


def _upcasting(subject: Subject[Any], numbers: list[int], newest: int) -> list[Finding]:
    """Each older version needs an upcaster to the next; each consumer needs every chain to reach newest."""
    name = subject.template_text
    steps = {u.source for u in subject.upcasters}
    found: list[Finding] = []
    for number in numbers:
        if number != newest and number not in steps:
            message = f"no upcaster from v{number} to v{number + 1}"
            found.append(finding("C515", name, number, message))
    for number in numbers:
        reached = number
        while reached < newest and reached in steps:
            reached += 1
        if reached == newest:
            continue
        for spec in subject.consumers:
            message = (
                f"consumer {spec.durable} cannot receive v{number}: upcasting stops at v{reached}, "
                f"it handles v{newest}"
            )
            found.append(finding("C516", name, number, message, number, reached))
    return found

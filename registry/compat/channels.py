"""Channel rules (checklist rule 10): a subject's template, parameters, messages and operations are
part of its contract; changing the template or a parameter, or removing a message, an enum value, the
producer or a consumer durable breaks whoever subscribes or publishes by the old facts."""

from __future__ import annotations

import re

from registry.compat.findings import Finding
from registry.compat.gate_rules import finding
from registry.compat.lock import Channel

_MESSAGE = re.compile(r".*\.v([0-9]+)")


def compare_channels(old: Channel, new: Channel) -> list[Finding]:
    """Every channel break between the baseline `old` and the current `new` of one subject."""
    subject = new.template
    found: list[Finding] = []
    if old.template != new.template:
        found.append(finding("C602", subject, None, "subject template changed", old.template, new.template))
    found += _parameters(old, new)
    for message in old.messages:
        if message not in new.messages:
            found.append(
                finding("C607", subject, _version(message), f"message {message} removed", message, None)
            )
    if old.producer != new.producer:
        message = f"producer changed from {old.producer} to {new.producer}"
        found.append(finding("C608", subject, None, message, old.producer, new.producer))
    for durable in old.consumers:
        if durable not in new.consumers:
            found.append(finding("C609", subject, None, f"consumer durable {durable} removed", durable, None))
    return found


def _parameters(old: Channel, new: Channel) -> list[Finding]:
    """Parameters by position in the template: a different name in the same place is a rename; names
    only on one side are added or removed; an enum parameter must keep all its values."""
    subject = new.template
    found: list[Finding] = []
    before, after = old.placeholders, new.placeholders
    renamed: set[str] = set()
    if len(before) == len(after):
        for a, b in zip(before, after, strict=True):
            if a != b and a not in after and b not in before:
                renamed |= {a, b}
                found.append(finding("C605", subject, None, f"parameter {a} renamed to {b}", a, b))
    for name in before:
        if name not in after and name not in renamed:
            found.append(finding("C604", subject, None, f"parameter {name} removed", name, None))
    for name in after:
        if name not in before and name not in renamed:
            found.append(finding("C603", subject, None, f"parameter {name} added", None, name))
    for name, values in old.params.items():
        kept = new.params.get(name)
        if not values or kept is None or not kept:
            continue  # a free parameter, a removed one (reported above) or one no longer restricted
        for value in values:
            if value not in kept:
                message = f"parameter {name}: value {value!r} removed"
                found.append(finding("C606", subject, None, message, value, None))
    return found


def _version(message: str) -> int | None:
    """N of `Name.vN`, or None when the name has another shape."""
    match = _MESSAGE.fullmatch(message)
    return int(match.group(1)) if match else None

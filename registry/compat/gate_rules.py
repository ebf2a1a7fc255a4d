"""Rule ids of the registry-level gate (C5xx: versions and migration windows; C6xx: channels; C7xx: the
wire, from each payload's EXAMPLES)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from registry.compat.findings import Finding, Severity
from registry.compat.rules import Rule

_E = Severity.ERROR
_W = Severity.WARNING

_TABLE: Final = (
    # versions against the lock (checklist rule 8)
    Rule("C501", _E, "a break on a locked version: a breaking change requires a new version"),
    Rule("C502", _W, "a new version has no break relative to the previous one (keep the version)"),
    Rule("C503", _E, "a locked version is no longer registered"),
    Rule("C505", _W, "the registry has changes the lock does not record yet (run `gordon schemas lock`)"),
    # migration windows (checklist rule 9)
    Rule("C511", _E, "an older version is not the old side of a migration window"),
    Rule("C512", _E, "a migration window names a version that is not registered, or runs backwards"),
    Rule("C513", _E, "a migration window has no expiry date"),
    Rule("C514", _E, "a migration window has expired"),
    Rule("C515", _E, "an older version has no upcaster to the next version"),
    Rule("C516", _E, "a consumer cannot receive a version: its upcaster chain does not reach the newest"),
    # channels (checklist rule 10)
    Rule("C601", _E, "a subject (channel) was removed"),
    Rule("C602", _E, "a subject template changed"),
    Rule("C603", _E, "a subject parameter was added"),
    Rule("C604", _E, "a subject parameter was removed"),
    Rule("C605", _E, "a subject parameter was renamed"),
    Rule("C606", _E, "a value of an enum subject parameter was removed"),
    Rule("C607", _E, "a message (Name.vN) was removed from a channel"),
    Rule("C608", _E, "the producer changed (the send operation was removed)"),
    Rule("C609", _E, "a consumer durable was removed (a receive operation was removed)"),
    # the wire: each payload's declared EXAMPLES, encoded by the codec
    Rule("C701", _E, "an example (EXAMPLES) is not a valid payload of its model"),
    Rule("C702", _E, "an example's wire JSON is rejected by a locked revision (or the current schema)"),
    Rule("C703", _E, "an example's wire JSON does not decode back through the codec"),
)

GATE_BY_ID: Final[MappingProxyType[str, Rule]] = MappingProxyType({rule.id: rule for rule in _TABLE})
GATE_RULES: Final[MappingProxyType[str, str]] = MappingProxyType({r.id: r.summary for r in _TABLE})


def finding(
    rule: str,
    subject: str,
    version: int | None,
    message: str,
    old: object | None = None,
    new: object | None = None,
    *,
    path: str = "$",
) -> Finding:
    """A finding of a gate rule, at the table's severity (`version` None: about the whole subject)."""
    severity = GATE_BY_ID[rule].severity
    return Finding(rule, severity, subject, version, path, message, old, new)

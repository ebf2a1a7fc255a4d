"""`Context`: what one comparison carries along — the two roots, the flags, the findings so far."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from registry.compat.findings import Finding, Severity
from registry.compat.rules import BY_ID


@dataclass
class Context:
    """The state of one diff: roots for `$ref` lookups, ref pairs being compared, findings in order."""

    subject: str
    version: int
    old_root: Mapping[str, Any]
    new_root: Mapping[str, Any]
    open_enums: bool = False
    findings: list[Finding] = field(default_factory=list)
    active: list[tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)

    def emit(
        self,
        rule: str,
        path: str,
        message: str,
        old: object | None = None,
        new: object | None = None,
        *,
        severity: Severity | None = None,
    ) -> None:
        """Record a finding of `rule` (its table severity unless one is given)."""
        self.findings.append(
            Finding(
                rule=rule,
                severity=severity or BY_ID[rule].severity,
                subject=self.subject,
                version=self.version,
                path=path,
                message=message,
                old=old,
                new=new,
            )
        )

    def scratch(self) -> Context:
        """A copy with no findings, for a trial comparison whose findings are only inspected."""
        return Context(
            subject=self.subject,
            version=self.version,
            old_root=self.old_root,
            new_root=self.new_root,
            open_enums=self.open_enums,
            active=list(self.active),
        )

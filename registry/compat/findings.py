"""`Finding`: one compatibility verdict, named by rule, subject, version and JSON path into the data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """An error fails the check (a new version is needed); a warning is reported and passes."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict about one place in a payload; `path` points into the data (`$.legs[].price`).
    `version` is None for a finding about the subject as a whole (its channel, its lint), which then
    prints no version."""

    rule: str
    severity: Severity
    subject: str
    version: int | None
    path: str
    message: str
    old: object | None = None
    new: object | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping, for machine-readable output."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "subject": self.subject,
            "version": self.version,
            "path": self.path,
            "message": self.message,
            "old": self.old,
            "new": self.new,
        }

    def __str__(self) -> str:
        version = "" if self.version is None else f" v{self.version}"
        line = f"{self.rule} {self.severity.value} {self.subject}{version} {self.path}: "
        line += self.message
        if self.old is not None or self.new is not None:
            line += f" (old={_render(self.old)}, new={_render(self.new)})"
        return line


def _render(value: object) -> str:
    """Compact, unambiguous JSON text of a value (schema fragments are JSON already)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)

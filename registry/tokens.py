"""Subject tokens and template parameters: what a value may look like before it becomes part of a subject."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FORBIDDEN = re.compile(r"[.*>\s]")


class SubjectTokenError(ValueError):
    """A subject parameter value that cannot be a NATS subject token."""


@dataclass(frozen=True)
class Param:
    """A template parameter: its name, the regex every value must match in full, and what it means."""

    name: str
    pattern: str
    description: str
    examples: tuple[str, ...] = ()
    enum: tuple[str, ...] = ()
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.pattern))

    def check(self, value: str) -> str:
        """Return `value` if it is a valid token for this parameter, else raise SubjectTokenError."""
        if not isinstance(value, str):
            raise SubjectTokenError(f"{self.name}: expected str, got {type(value).__name__}")
        if value == "":
            raise SubjectTokenError(f"{self.name}: empty subject token")
        bad = _FORBIDDEN.search(value)
        if bad:
            raise SubjectTokenError(
                f"{self.name}={value!r}: {bad.group()!r} is not allowed in a subject token"
            )
        if not self._regex.fullmatch(value):
            raise SubjectTokenError(f"{self.name}={value!r}: does not match {self.pattern}")
        return value


def enum_param(name: str, values: tuple[str, ...], description: str) -> Param:
    """A parameter restricted to a fixed set of lowercase values."""
    return Param(name, "|".join(re.escape(v) for v in values), description, examples=values, enum=values)

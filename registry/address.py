"""Typed addresses: a concrete subject bound to the payload type that may be published to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from registry.event import Event
from registry.subject import Subject

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Address(Generic[E]):
    """A rendered subject (`trading.fills.0193…`) and its declaration; publishing takes one of these."""

    subject: Subject[E]
    concrete: str
    values: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        return self.concrete


class Channel(Generic[E]):
    """Builds checked `Address`es of one subject; generated subclasses add typed keyword parameters."""

    def __init__(self, subject: Subject[E]) -> None:
        self.subject = subject

    def _address(self, **values: Any) -> Address[E]:
        text = {k: str(v.value if hasattr(v, "value") else v) for k, v in values.items()}
        return Address(self.subject, self.subject.render(text), tuple(sorted(text.items())))

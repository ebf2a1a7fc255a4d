"""Subject templates and their declarations: the one place a subject, its payloads and its users are named."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Generic, TypeVar

from registry.event import Event
from registry.tokens import Param, SubjectTokenError

E = TypeVar("E", bound=Event)

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class Service(StrEnum):
    """The five services of the platform; each subject has exactly one producer among them."""

    DATA = "data"
    BOT = "bot"
    EXECUTOR = "executor"
    RISK = "risk"
    MANAGER = "manager"

    @property
    def app(self) -> str:
        """The service's FastStream app, as `faststream run` takes it."""
        return f"services.{self.value}:app"


class Tier(StrEnum):
    """Durability tier of a subject: what a loss or a duplicate costs, and so how it is carried."""

    BEST_EFFORT = "best_effort"
    AT_LEAST_ONCE = "at_least_once"
    AT_LEAST_ONCE_DEDUPED = "at_least_once_deduped"


class StartAt(StrEnum):
    """Where a new durable starts reading."""

    NEW = "new"
    ALL = "all"
    LAST_PER_SUBJECT = "last_per_subject"


class Template:
    """A subject template such as `trading.fills.{bot_id}`: render, parse and wildcard it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tuple(text.split("."))
        self.names = tuple(_PLACEHOLDER.findall(text))
        pieces = []
        for token in self.tokens:
            match = _PLACEHOLDER.fullmatch(token)
            pieces.append(f"(?P<{match.group(1)}>[^.]+)" if match else re.escape(token))
        self._regex = re.compile(r"\.".join(pieces))

    def render(self, values: Mapping[str, str]) -> str:
        """The concrete subject for `values` (which must name exactly this template's parameters)."""
        missing = [n for n in self.names if n not in values]
        extra = [n for n in values if n not in self.names]
        if missing or extra:
            raise SubjectTokenError(
                f"{self.text}: missing parameters {missing}"
                if missing
                else f"{self.text}: unknown parameters {extra}"
            )
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.text)

    def parse(self, subject: str) -> dict[str, str] | None:
        """The parameter values of a concrete subject, or None when it does not fit the template."""
        match = self._regex.fullmatch(subject)
        return match.groupdict() if match else None

    def wildcard(self, bound: Mapping[str, str] | None = None) -> str:
        """The NATS filter for this template, `*` in place of every parameter not in `bound`."""
        bound = bound or {}
        return _PLACEHOLDER.sub(lambda m: bound.get(m.group(1), "*"), self.text)

    def __repr__(self) -> str:
        return f"Template({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


@dataclass(frozen=True)
class ConsumerSpec:
    """A service's durable consumer of a subject.

    `durable` is a template over the subject's parameters it binds (`binds`) plus any instance
    parameters (`instance`, such as `bot_id`); unbound subject parameters are wildcards in the filter.
    """

    service: Service
    durable: str
    binds: tuple[str, ...] = ()
    instance: tuple[Param, ...] = ()
    start_at: StartAt = StartAt.ALL
    max_deliver: int = 5
    ack_wait_s: float = 30.0
    backoff_s: tuple[float, ...] = (1.0, 5.0, 30.0)
    max_ack_pending: int = 1000
    description: str = ""

    @property
    def durable_template(self) -> Template:
        return Template(self.durable)


@dataclass(frozen=True)
class MigrationWindow:
    """Versions `old` and `new` of a payload accepted side by side until `expires` (a breaking change)."""

    old: int
    new: int
    expires: date
    reason: str


@dataclass(frozen=True)
class Upcaster:
    """Turns a decoded payload of version `source` into one of version `source + 1`."""

    source: int
    fn: Callable[[Any], Event]


@dataclass(frozen=True)
class Subject(Generic[E]):
    """One subject: template, payload versions (newest last), producer, consumers and tier."""

    template_text: str
    payload: type[E]
    producer: Service
    params: tuple[Param, ...]
    consumers: tuple[ConsumerSpec, ...] = ()
    tier: Tier = Tier.AT_LEAST_ONCE
    older: tuple[type[Event], ...] = ()
    upcasters: tuple[Upcaster, ...] = ()
    windows: tuple[MigrationWindow, ...] = ()
    summary: str = ""
    name: str = ""
    template: Template = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "template", Template(self.template_text))
        if not self.name:
            object.__setattr__(self, "name", self.template_text)

    @property
    def versions(self) -> tuple[type[Event], ...]:
        """Every registered payload version, oldest first; the last one is what producers publish."""
        return (*self.older, self.payload)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.template_text}: no parameter {name!r}")

    def render(self, values: Mapping[str, str]) -> str:
        """The concrete subject for `values`, every value checked against its parameter."""
        for name, value in values.items():
            if name in self.template.names:
                self.param(name).check(value)
        return self.template.render(values)

    def consumer(self, service: Service) -> ConsumerSpec:
        for spec in self.consumers:
            if spec.service is service:
                return spec
        raise KeyError(f"{self.template_text}: {service} does not consume it")

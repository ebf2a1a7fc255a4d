"""`Registry`: every subject and stream, with lookups by template, concrete subject and service."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

from registry.codec import Codec
from registry.streams import StreamSpec, covers
from registry.subject import Service, Subject


class UnknownSubjectError(LookupError):
    """A concrete subject that no registered template matches."""


class Registry:
    """The platform's subjects and streams; immutable once built."""

    def __init__(
        self,
        subjects: Sequence[Subject[Any]],
        streams: Sequence[StreamSpec],
        bus: StreamSpec,
        history: StreamSpec,
        dead_letters: StreamSpec,
    ) -> None:
        self.subjects = tuple(subjects)
        self.streams = tuple(streams)
        self.bus = bus
        self.history = history
        self.dead_letters = dead_letters
        self._by_template = {s.template_text: s for s in self.subjects}
        self._codecs: dict[str, Codec[Any]] = {}

    def __iter__(self) -> Iterator[Subject[Any]]:
        return iter(self.subjects)

    def get(self, template: str) -> Subject[Any]:
        """The subject declared with this template text."""
        try:
            return self._by_template[template]
        except KeyError:
            raise UnknownSubjectError(f"no subject declared as {template!r}") from None

    def match(self, subject: str) -> Subject[Any]:
        """The declaration a concrete subject belongs to (every parameter value checked)."""
        for declared in self._literal_first:
            values = declared.template.parse(subject)
            if values is None:
                continue
            try:
                declared.render(values)
            except ValueError:
                continue
            return declared
        raise UnknownSubjectError(f"{subject!r} matches no declared subject")

    @cached_property
    def _literal_first(self) -> tuple[Subject[Any], ...]:
        return tuple(sorted(self.subjects, key=lambda s: len(s.template.names)))

    def codec(self, subject: Subject[Any]) -> Codec[Any]:
        """The (cached) codec of a declared subject."""
        codec = self._codecs.get(subject.template_text)
        if codec is None:
            codec = self._codecs[subject.template_text] = Codec(subject)
        return codec

    def produced_by(self, service: Service) -> tuple[Subject[Any], ...]:
        return tuple(s for s in self.subjects if s.producer is service)

    def consumed_by(self, service: Service) -> tuple[Subject[Any], ...]:
        return tuple(s for s in self.subjects if any(c.service is service for c in s.consumers))

    def stream_of(self, subject: Subject[Any]) -> StreamSpec:
        """The stream whose own subjects capture `subject` when it is published (not one sourcing it);
        LookupError when none does (lint L103 keeps every declared subject inside the live stream)."""
        wildcard = subject.template.wildcard()
        for stream in self.streams:
            if any(covers(own, wildcard) for own in stream.subjects):
                return stream
        raise LookupError(f"no stream captures {subject.template_text!r}")

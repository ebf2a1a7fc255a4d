"""Concrete subjects for every declared template, and the service that owns each: the tests' fixtures."""

from __future__ import annotations

from typing import Any

from registry.subject import Subject
from schemas import REGISTRY


def sample_values(subject: Subject[Any]) -> dict[str, str]:
    """A value for each parameter of `subject`: its first example, or a plain token."""
    values = {}
    for name in subject.template.names:
        examples = subject.param(name).examples
        values[name] = examples[0] if examples else "x1"
    return values


def sample_subject(subject: Subject[Any]) -> str:
    """A concrete subject of `subject`."""
    return subject.render(sample_values(subject))


SAMPLES: tuple[tuple[Subject[Any], str], ...] = tuple((s, sample_subject(s)) for s in REGISTRY)
"""Every declared subject with one concrete subject of it."""

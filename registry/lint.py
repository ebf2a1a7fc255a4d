"""Registry lint: structural rules every declaration must keep (run by `gordon schemas check`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args

from registry.registry import Registry
from registry.streams import covers, overlaps
from registry.subject import Subject

_LITERAL_TOKEN = re.compile(r"[a-z0-9_]+")
_DURABLE_CHARS = re.compile(r"[a-z0-9_-]+")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

LINT_RULES: dict[str, str] = {
    "L101": "each subject template is declared once (one producer per subject)",
    "L102": "no two subjects' patterns overlap (a concrete subject has exactly one producer)",
    "L103": "every subject falls inside the live stream's wildcards",
    "L104": "durable names follow `<service>-...`, use only [a-z0-9_-] and declared placeholders",
    "L105": "subject tokens are lowercase; parameter patterns admit no uppercase",
    "L106": "a per-instance durable names every parameter its filter binds",
    "L107": "payload versions are consecutive, newest last, with an upcaster from each older one",
    "L108": "a template's placeholders and its declared parameters are the same set",
    "L109": "durable names are unique across the registry",
    "L110": "schema_version is the first field of every payload, a constant equal to its version",
}


@dataclass(frozen=True)
class LintFinding:
    """One broken lint rule, about one subject."""

    rule: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} error {self.subject}: {self.message}"


def lint(registry: Registry) -> list[LintFinding]:
    """Every lint finding of the registry, in declaration order."""
    found: list[LintFinding] = []
    seen: dict[str, str] = {}
    durables: dict[str, str] = {}
    for i, subject in enumerate(registry.subjects):
        name = subject.template_text
        if name in seen:
            found.append(LintFinding("L101", name, "declared twice"))
        seen[name] = name
        for other in registry.subjects[i + 1 :]:
            if other.template_text != name and overlaps(
                subject.template.wildcard(), other.template.wildcard()
            ):
                found.append(
                    LintFinding(
                        "L102",
                        name,
                        f"overlaps {other.template_text} ({subject.producer} vs {other.producer})",
                    )
                )
        if not any(covers(f, subject.template.wildcard()) for f in registry.bus.filters):
            found.append(LintFinding("L103", name, f"outside {registry.bus.name} subjects"))
        found += _tokens(subject)
        found += _durables(subject, durables)
        found += _versions(subject)
    return found


def _tokens(subject: Subject[Any]) -> list[LintFinding]:
    name = subject.template_text
    found = []
    declared = {p.name for p in subject.params}
    if declared != set(subject.template.names):
        found.append(
            LintFinding(
                "L108",
                name,
                f"placeholders {sorted(subject.template.names)} vs parameters {sorted(declared)}",
            )
        )
    for token in subject.template.tokens:
        if not _PLACEHOLDER.fullmatch(token) and not _LITERAL_TOKEN.fullmatch(token):
            found.append(LintFinding("L105", name, f"token {token!r} is not lowercase [a-z0-9_]"))
    for param in subject.params:
        if re.search(r"A-Z|\\w|\.", param.pattern) or any(
            re.fullmatch(param.pattern, e.upper()) and e.upper() != e for e in param.examples
        ):
            found.append(LintFinding("L105", name, f"parameter {param.name} admits uppercase"))
    return found


def _durables(subject: Subject[Any], durables: dict[str, str]) -> list[LintFinding]:
    name = subject.template_text
    found = []
    for spec in subject.consumers:
        durable = spec.durable
        holes = set(_PLACEHOLDER.findall(durable))
        literal = _PLACEHOLDER.sub("x", durable)
        if not durable.startswith(f"{spec.service.value}-") or not _DURABLE_CHARS.fullmatch(literal):
            found.append(LintFinding("L104", name, f"durable {durable!r} breaks the convention"))
        allowed = set(spec.binds) | {p.name for p in spec.instance}
        if holes - allowed:
            found.append(
                LintFinding("L104", name, f"durable {durable!r} uses undeclared {sorted(holes - allowed)}")
            )
        unknown_binds = set(spec.binds) - set(subject.template.names)
        if unknown_binds:
            found.append(LintFinding("L106", name, f"{durable!r} binds unknown {sorted(unknown_binds)}"))
        missing = set(spec.binds) - holes
        if missing:
            found.append(
                LintFinding(
                    "L106",
                    name,
                    f"durable {durable!r} binds {sorted(missing)} in its filter but does not "
                    "name them: two instances would share one durable",
                )
            )
        if durable in durables:
            found.append(LintFinding("L109", name, f"durable {durable!r} also used by {durables[durable]}"))
        durables[durable] = name
    return found


def _versions(subject: Subject[Any]) -> list[LintFinding]:
    name = subject.template_text
    found = []
    numbers = [v.VERSION for v in subject.versions]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))) or numbers[0] < 1:
        found.append(LintFinding("L107", name, f"versions {numbers} are not consecutive from 1"))
    sources = {u.source for u in subject.upcasters}
    for number in numbers[:-1]:
        if number not in sources:
            found.append(LintFinding("L107", name, f"no upcaster from v{number}"))
    for model in subject.versions:
        fields = list(model.model_fields)
        annotation: Any = model.model_fields["schema_version"].annotation if fields else None
        if not fields or fields[0] != "schema_version" or get_args(annotation) != (model.VERSION,):
            found.append(LintFinding("L110", name, f"{model.__name__}: schema_version must come first"))
    return found

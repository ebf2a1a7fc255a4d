"""The wire check (C7xx): each payload's declared EXAMPLES are built, encoded as the codec encodes them
and validated against every locked revision of their version, so an encoder that changed what it emits
(a Decimal as a JSON number, not a string) is caught even when the annotation and JSON Schema did not."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from registry.codec import Codec, DecodeError, EncodeError
from registry.compat.export import Json
from registry.compat.findings import Finding
from registry.compat.gate_rules import finding
from registry.compat.lock import LockedSubject, same_schema
from registry.compat.validate import first_error
from registry.event import Event
from registry.subject import Subject


def check_examples(subject: Subject[Any], locked: LockedSubject | None, now: LockedSubject) -> list[Finding]:
    """C701-C703 for every example of every version of `subject`, against `locked` (the baseline's
    entry of this subject, None when it is new) and the current schema where it differs."""
    codec: Codec[Any] = Codec(subject)
    found: list[Finding] = []
    for model in subject.versions:
        examples: tuple[Mapping[str, Any], ...] = model.__dict__.get("EXAMPLES", ())
        if not examples:
            continue
        targets = _targets(model.VERSION, locked, now)
        for index, example in enumerate(examples, start=1):
            found += _check_one(subject, codec, model, index, example, targets)
    return found


def _targets(version: int, locked: LockedSubject | None, now: LockedSubject) -> list[tuple[str, Json]]:
    """(label, schema): each locked revision of `version`, then the current schema unless it is the
    last locked revision."""
    revisions = locked.versions.get(version, ()) if locked is not None else ()
    targets = [(f"locked revision {n}", schema) for n, schema in enumerate(revisions, start=1)]
    current = now.versions[version][0]
    if not revisions or not same_schema(revisions[-1], current):
        targets.append(("the current schema", current))
    return targets


def _check_one(
    subject: Subject[Any],
    codec: Codec[Any],
    model: type[Event],
    index: int,
    example: Mapping[str, Any],
    targets: list[tuple[str, Json]],
) -> list[Finding]:
    name, version = subject.template_text, model.VERSION
    where = f"{model.__name__}.EXAMPLES[{index - 1}]"
    try:
        event = model.model_validate(dict(example))
    except (ValidationError, TypeError) as error:
        return [finding("C701", name, version, f"{where} is not a valid {model.__name__}: {_line(error)}")]
    try:
        # the newest payload through the codec; an older one (no longer published) as the codec would
        data = codec.encode(event) if model is subject.payload else event.model_dump_json().encode()
        wire = json.loads(data)
    except (EncodeError, PydanticSerializationError, ValueError) as error:
        return [finding("C702", name, version, f"{where} cannot be encoded: {_line(error)}")]
    found: list[Finding] = []
    for label, schema in targets:
        rejected = first_error(wire, schema)
        if rejected is not None:
            path, _, reason = rejected.partition(": ")
            message = f"{where} encodes to JSON {label} rejects: {reason}"
            found.append(finding("C702", name, version, message, path=path))
    try:
        codec.decode(data)
    except DecodeError as error:
        found.append(finding("C703", name, version, f"{where} does not decode back: {error.reason}"))
    return found


def _line(error: Exception) -> str:
    """One line: a validation error's first problem and where, else the error's first lines."""
    if isinstance(error, ValidationError) and error.error_count():
        first = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "$"
        more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
        return f"{where}: {first['msg']}{more}"
    lines = str(error).strip().splitlines()
    return " ".join(lines[:3]) if lines else type(error).__name__

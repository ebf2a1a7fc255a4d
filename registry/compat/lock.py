"""The schema lock: for every (subject, version) its released revisions' JSON Schemas, plus channel facts.

`schemas/schemas.lock.json` is written by `gordon schemas lock` and read by `gordon schemas check`;
`current(registry)` is the registry as it is now, in the same shape (one revision per version).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from registry.compat.export import LOCK_COMMENT, Json, dumps, export

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class LockError(ValueError):
    """A lock document that cannot be read (bad JSON or the wrong shape); the message is one line."""


@dataclass(frozen=True)
class Channel:
    """What the channel rules compare: template, parameters (enum values), producer, durables, messages."""

    template: str
    params: Mapping[str, tuple[str, ...]]
    producer: str
    consumers: tuple[str, ...]
    messages: tuple[str, ...]

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The template's parameter names in the order they appear in it."""
        return tuple(_PLACEHOLDER.findall(self.template))


@dataclass(frozen=True)
class LockedSubject:
    """One subject of the lock: its channel facts and, per version, its revisions oldest first."""

    name: str
    channel: Channel
    versions: Mapping[int, tuple[Json, ...]]


@dataclass(frozen=True)
class Lock:
    """Every locked subject by name (a subject's name is its template unless declared otherwise)."""

    subjects: Mapping[str, LockedSubject] = field(default_factory=dict)


def parse(document: object) -> Lock:
    """The lock in a decoded JSON document; LockError names the first thing of the wrong shape."""
    if not isinstance(document, dict) or not isinstance(document.get("subjects"), dict):
        raise LockError('a lock is an object with a "subjects" object')
    subjects = {}
    for name, entry in document["subjects"].items():
        subjects[name] = _subject(name, entry)
    return Lock(subjects)


def _subject(name: str, entry: object) -> LockedSubject:
    where = f"subject {name!r}"
    if not isinstance(entry, dict):
        raise LockError(f"{where}: not an object")
    params = _field(entry, "params", dict, where)
    versions = _field(entry, "versions", dict, where)
    parsed: dict[int, tuple[Json, ...]] = {}
    for key, revisions in versions.items():
        if not key.isdigit() or not isinstance(revisions, list) or not revisions:
            raise LockError(f"{where}: version {key!r} needs a non-empty list of revisions")
        if not all(isinstance(r, dict) for r in revisions):
            raise LockError(f"{where}: version {key} has a revision that is not an object")
        parsed[int(key)] = tuple(revisions)
    channel = Channel(
        template=_field(entry, "template", str, where),
        params={k: tuple(_strings(v, f"{where} param {k}")) for k, v in params.items()},
        producer=_field(entry, "producer", str, where),
        consumers=tuple(_strings(_field(entry, "consumers", list, where), f"{where} consumers")),
        messages=tuple(_strings(_field(entry, "messages", list, where), f"{where} messages")),
    )
    return LockedSubject(name, channel, dict(sorted(parsed.items())))


def _field(entry: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind):
        raise LockError(f"{where}: {key!r} must be a JSON {kind.__name__}")
    return value


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LockError(f"{where}: expected a list of strings")
    return list(value)


def to_document(lock: Lock) -> Json:
    """The JSON document of a lock: subjects, versions and parameters sorted, schemas as they are."""
    subjects: Json = {}
    for name in sorted(lock.subjects):
        entry = lock.subjects[name]
        channel = entry.channel
        subjects[name] = {
            "template": channel.template,
            "params": {k: sorted(channel.params[k]) for k in sorted(channel.params)},
            "producer": channel.producer,
            "consumers": sorted(channel.consumers),
            "messages": list(channel.messages),
            "versions": {str(v): list(entry.versions[v]) for v in sorted(entry.versions)},
        }
    return {"_comment": LOCK_COMMENT, "subjects": subjects}


def loads(text: str) -> Lock:
    """The lock in JSON text."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise LockError(f"not JSON: {error}") from None
    return parse(document)


def read(path: Path) -> Lock | None:
    """The lock stored at `path`, or None when there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return loads(text)


def write(path: Path, lock: Lock) -> None:
    """Store `lock` at `path` (through a temporary file, so a reader never sees half a lock)."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(dumps(to_document(lock)), encoding="utf-8")
    partial.replace(path)


def same_schema(a: Json, b: Json) -> bool:
    """Equal, key order included (a dict comparison alone would miss reordered properties)."""
    return json.dumps(a) == json.dumps(b)


def current(registry: Any) -> Lock:
    """The registry as it is now, as a lock with one revision per (subject, version)."""
    return parse(export(registry))


def updated(lock: Lock, now: Lock) -> tuple[Lock, list[str]]:
    """`lock` with `now` recorded: a revision appended where a version's schema changed, new subjects
    and versions added, channel facts refreshed; and one line per change. Check `now` first: this
    records whatever it is given. Locked subjects and versions absent from `now` are kept."""
    subjects = dict(lock.subjects)
    changes: list[str] = []
    for name, fresh in now.subjects.items():
        locked = subjects.get(name)
        if locked is None:
            subjects[name] = fresh
            changes.append(f"added {name} " + ", ".join(f"v{v}" for v in fresh.versions))
            continue
        versions = dict(locked.versions)
        for number, (schema, *_) in fresh.versions.items():
            revisions = versions.get(number)
            if revisions is None:
                versions[number] = (schema,)
                changes.append(f"added {name} v{number}")
            elif not same_schema(revisions[-1], schema):
                versions[number] = (*revisions, schema)
                changes.append(f"{name} v{number}: revision {len(revisions) + 1}")
        if locked.channel != fresh.channel:
            changes.append(f"{name}: channel facts updated")
        subjects[name] = replace(locked, channel=fresh.channel, versions=dict(sorted(versions.items())))
    return Lock(subjects), changes

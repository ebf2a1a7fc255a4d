"""A registry as lock-shaped JSON: channel facts and one schema revision per (subject, version).

Standard library only, and duck-typed on the registry, so that `gordon schemas check --against REF`
can run this very file on the `schemas/` and `registry/` of another git ref (`python export.py`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

LOCK_COMMENT = (
    "Written by `gordon schemas lock`; checked by `gordon schemas check` in CI. "
    "Do not edit by hand: for every (subject, version) the JSON Schemas of its released revisions, "
    "oldest first, and per subject the channel facts the channel rules compare."
)

Json = dict[str, Any]


def message_id(model: Any) -> str:
    """The message name of a payload version, `Name.vN` (as in asyncapi.yaml)."""
    return f"{model.NAME}.v{model.VERSION}"


def subject_entry(subject: Any) -> Json:
    """The channel facts of a subject and the current JSON Schema of each of its versions."""
    params = {p.name: sorted(getattr(p, "enum", ()) or ()) for p in subject.params}
    producer = subject.producer
    return {
        "template": subject.template_text,
        "params": dict(sorted(params.items())),
        "producer": str(getattr(producer, "value", producer)),
        "consumers": sorted(spec.durable for spec in subject.consumers),
        "messages": [message_id(model) for model in subject.versions],
        "versions": {
            str(model.VERSION): [model.model_json_schema(mode="validation")] for model in subject.versions
        },
    }


def export(registry: Any) -> Json:
    """The lock document of `registry` as it is now: every subject by name, one revision per version."""
    subjects = sorted(registry.subjects, key=lambda s: getattr(s, "name", "") or s.template_text)
    entries = {(getattr(s, "name", "") or s.template_text): subject_entry(s) for s in subjects}
    return {"_comment": LOCK_COMMENT, "subjects": entries}


def dumps(document: Json) -> str:
    """The document as stable JSON text: two-space indent, key order as built (never re-sorted)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Print the lock document of `schemas.REGISTRY` from whatever tree is first on sys.path."""
    from schemas import REGISTRY

    sys.stdout.write(dumps(export(REGISTRY)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

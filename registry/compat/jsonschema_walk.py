"""Resolve a JSON Schema node to its core: `$ref`s followed, one-element `allOf` unwrapped, null split off.

pydantic wraps the same type in several ways (`{"$ref"}`, `{"allOf": [{"$ref"}]}`, `anyOf[X, null]`);
comparing the cores, not the wrappers, keeps cosmetic rewrites from reading as type changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

ANNOTATION_KEYS: Final = ("title", "description", "default", "examples", "deprecated")
UNION_KEYS: Final = ("anyOf", "oneOf")
_MAX_STEPS: Final = 256


class SchemaError(ValueError):
    """The schema cannot be read (a dangling `$ref`, a node that is not an object)."""


@dataclass(frozen=True, slots=True)
class Shape:
    """A node's core `schema`, whether null is also accepted, the `$defs` passed through, its annotations."""

    schema: Mapping[str, Any]
    nullable: bool
    refs: tuple[str, ...]
    annotations: Mapping[str, Any]

    @property
    def name(self) -> str | None:
        """The last `$defs` name followed (the model or enum class name), if any."""
        return self.refs[-1].rsplit("/", 1)[-1] if self.refs else None


def resolve(node: Any, root: Mapping[str, Any]) -> Shape:
    """The core of `node`; a `Shape` passes through unchanged. Sibling keys win over the referenced ones."""
    if isinstance(node, Shape):
        return node
    current = _as_mapping(node)
    refs: list[str] = []
    nullable = False
    for _ in range(_MAX_STEPS):
        if "$ref" in current:
            ref = current["$ref"]
            rest = {k: v for k, v in current.items() if k != "$ref"}
            if not isinstance(ref, str):
                raise SchemaError(f"$ref must be a string, got {ref!r}")
            if ref in refs:  # a $ref chain with no structure in between: nothing more to learn
                current = rest
                break
            refs.append(ref)
            current = {**_as_mapping(lookup(ref, root)), **rest}
            continue
        all_of = current.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            rest = {k: v for k, v in current.items() if k != "allOf"}
            current = {**_as_mapping(all_of[0]), **rest}
            continue
        union_key = next((k for k in UNION_KEYS if isinstance(current.get(k), list)), None)
        if union_key is not None:
            branches = current[union_key]
            kept = [b for b in branches if not _is_null(b)]
            if len(kept) < len(branches):
                nullable = True
            rest = {k: v for k, v in current.items() if k != union_key}
            if len(kept) == 1:
                current = {**_as_mapping(kept[0]), **rest}
                continue
            current = {**rest, union_key: kept}
            break
        types = current.get("type")
        if isinstance(types, list) and "null" in types:
            nullable = True
            kept_types = [t for t in types if t != "null"]
            current = {**current, "type": kept_types[0] if len(kept_types) == 1 else kept_types}
        break
    else:
        raise SchemaError("schema nesting too deep to resolve")
    annotations: dict[str, Any] = {k: current[k] for k in ANNOTATION_KEYS if k in current}
    core = {k: v for k, v in current.items() if k not in ANNOTATION_KEYS}
    return Shape(schema=core, nullable=nullable, refs=tuple(refs), annotations=annotations)


def lookup(ref: str, root: Mapping[str, Any]) -> Any:
    """The node a local `$ref` (`#/$defs/Name`, any JSON pointer) points at in `root`."""
    if not ref.startswith("#"):
        raise SchemaError(f"only local $ref are supported, got {ref!r}")
    node: Any = root
    pointer = ref[1:]
    if not pointer:
        return node
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise SchemaError(f"$ref {ref!r} points at nothing")
    return node


def _as_mapping(node: Any) -> dict[str, Any]:
    """Boolean schemas as objects: `true` accepts anything, `false` nothing."""
    if node is True:
        return {}
    if node is False:
        return {"not": {}}
    if not isinstance(node, Mapping):
        raise SchemaError(f"a schema node must be an object or a boolean, got {type(node).__name__}")
    return dict(node)


def _is_null(node: Any) -> bool:
    """Is this union branch exactly the null type (the `None` of an `Optional`)?"""
    return isinstance(node, Mapping) and node.get("type") == "null" and "$ref" not in node

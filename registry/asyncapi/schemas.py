"""Payload JSON Schemas with their `$defs` lifted into one shared `components.schemas` map."""

from __future__ import annotations

from typing import Any

from registry.asyncapi.errors import DocumentError
from registry.event import Event

Json = dict[str, Any]

COMPONENT_SCHEMAS = "#/components/schemas/"
_LOCAL_DEFS = "#/$defs/"


def payload_schema(model: type[Event], owner: str, shared: Json) -> Json:
    """The JSON Schema of `model`, its `$defs` added to `shared` and every `$ref` pointed there.

    A definition whose name is already taken in `shared` by a different schema is stored as
    `<owner>.<name>` instead, so two payloads may each have their own `Status` enum.
    """
    schema = model.model_json_schema(mode="validation")
    defs: Json = schema.pop("$defs", {})
    names = {name: _name_for(name, body, owner, shared) for name, body in defs.items()}
    for name, body in defs.items():
        shared.setdefault(names[name], _rewrite(body, names))
    result: Json = _rewrite(schema, names)
    return result


def _name_for(name: str, body: Json, owner: str, shared: Json) -> str:
    """The name under which `body` is (or will be) stored in `shared`."""
    for candidate in (name, f"{owner}.{name}"):
        if candidate not in shared or _strip_refs(shared[candidate]) == _strip_refs(body):
            return candidate
    raise DocumentError(f"{owner}: two different schemas both named {owner}.{name}")


def _strip_refs(value: Any) -> Any:
    """`value` with every `$ref` cut to its last name, to compare a stored definition with a fresh one."""
    if isinstance(value, dict):
        return {k: (v.rsplit("/", 1)[-1] if k == "$ref" else _strip_refs(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_refs(v) for v in value]
    return value


def _rewrite(value: Any, names: dict[str, str]) -> Any:
    """A copy of `value` with local `#/$defs/X` refs pointing into components, and AsyncAPI-safe."""
    if isinstance(value, list):
        return [_rewrite(v, names) for v in value]
    if not isinstance(value, dict):
        return value
    out: Json = {}
    for key, item in value.items():
        if key == "$ref" and isinstance(item, str) and item.startswith(_LOCAL_DEFS):
            out[key] = COMPONENT_SCHEMAS + names[item.removeprefix(_LOCAL_DEFS)]
        elif key == "discriminator" and isinstance(item, dict):
            out[key] = item["propertyName"]
        else:
            out[key] = _rewrite(item, names)
    return out

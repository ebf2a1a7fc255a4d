"""Encode events to wire bytes and decode them back: version dispatch, upcasting, clear reasons on failure."""

from __future__ import annotations

import json
from typing import Annotated, Any, Generic, TypeVar

from pydantic import Field, TypeAdapter, ValidationError

from registry.event import Event
from registry.subject import Subject

E = TypeVar("E", bound=Event)

MAX_PAYLOAD_BYTES = 1024 * 1024
"""nats-server's default max_payload; a larger event can never be published."""


class DecodeError(ValueError):
    """Bytes that are not a valid event of the subject; `reason` is one line for the dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EncodeError(ValueError):
    """An event that can never be published (wrong type, too large)."""


class Codec(Generic[E]):
    """The codec of one subject: encodes its newest payload, decodes every registered version to it."""

    def __init__(self, subject: Subject[E], max_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        self.subject = subject
        self.max_bytes = max_bytes
        versions = subject.versions
        self._known = tuple(v.VERSION for v in versions)
        self._upcasters = {u.source: u.fn for u in subject.upcasters}
        self._adapter: TypeAdapter[Any]
        if len(versions) == 1:
            self._adapter = TypeAdapter(versions[0])
        else:
            union: Any = Annotated[_union(versions), Field(discriminator="schema_version")]
            self._adapter = TypeAdapter(union)

    def encode(self, event: E) -> bytes:
        """JSON bytes of `event`; refuses anything but the subject's newest payload type or an oversize."""
        if type(event) is not self.subject.payload:
            raise EncodeError(
                f"{self.subject.template_text} publishes {self.subject.payload.__name__}, "
                f"got {type(event).__name__}"
            )
        data = event.model_dump_json().encode()
        if len(data) > self.max_bytes:
            raise EncodeError(
                f"{self.subject.template_text}: payload is {len(data)} bytes, "
                f"over the {self.max_bytes}-byte limit"
            )
        return data

    def decode(self, data: bytes) -> E:
        """The newest payload type for `data` of any registered version, or DecodeError with the reason."""
        if len(data) > self.max_bytes:
            raise DecodeError(f"payload of {len(data)} bytes exceeds {self.max_bytes}")
        try:
            event: Event = self._adapter.validate_json(data)
        except ValidationError as exc:
            raise DecodeError(self._reason(data, exc)) from None
        except (ValueError, RecursionError) as exc:
            raise DecodeError(f"undecodable payload: {exc}") from None
        while event.VERSION < self.subject.payload.VERSION:
            upcast = self._upcasters.get(event.VERSION)
            if upcast is None:
                raise DecodeError(f"no upcaster from schema_version {event.VERSION}")
            event = upcast(event)
        return event  # type: ignore[return-value]

    def _reason(self, data: bytes, exc: ValidationError) -> str:
        version = _peek_version(data)
        if version is not None and version not in self._known:
            return f"unsupported schema_version {version} (known: {list(self._known)})"
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "$"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"invalid {self.subject.payload.NAME} at {where}: {first['msg']}{more}"


def _union(versions: tuple[type[Event], ...]) -> Any:
    from typing import Union

    return Union[versions]  # noqa: UP007 - a runtime union of classes


def _peek_version(data: bytes) -> int | None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict):
        version = value.get("schema_version")
        if isinstance(version, int):
            return version
    return None

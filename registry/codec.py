"""Encode events to wire bytes and decode them back: version dispatch, upcasting, clear reasons on failure."""

from __future__ import annotations

import json
from typing import Annotated, Any, Generic, TypeVar

from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from registry.event import Event
from registry.subject import Subject

E = TypeVar("E", bound=Event)

MAX_PAYLOAD_BYTES = 1024 * 1024
"""nats-server's default max_payload: payload and headers of one message together."""
HEADER_ROOM = 8 * 1024
"""Left for headers: the bus headers, and a dead letter's (its reason is up to 1,000 characters)."""
MAX_EVENT_BYTES = MAX_PAYLOAD_BYTES - HEADER_ROOM
"""The largest encoded event: with its headers it still fits max_payload, on the bus and in the DLQ."""


class DecodeError(ValueError):
    """Bytes that are not a valid event of the subject; `reason` is one line for the dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EncodeError(ValueError):
    """An event that can never be published (wrong type, too large)."""


class Codec(Generic[E]):
    """The codec of one subject: encodes its newest payload, decodes every registered version to it."""

    def __init__(self, subject: Subject[E], max_bytes: int = MAX_EVENT_BYTES) -> None:
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

    def encode(self, event: E, to: str | None = None) -> bytes:
        """JSON bytes of `event`; refuses anything but the subject's newest payload type or an oversize.

        `to` is the concrete subject, named in the refusal (the template otherwise).
        """
        where = to or self.subject.template_text
        if type(event) is not self.subject.payload:
            raise EncodeError(
                f"{where} publishes {self.subject.payload.__name__}, got {type(event).__name__}"
            )
        try:
            data = event.model_dump_json().encode()
        except PydanticSerializationError as exc:  # e.g. a lone surrogate in a string: not UTF-8
            raise EncodeError(f"{where}: {self.subject.payload.__name__} cannot be encoded: {exc}") from None
        if _NUL in data and _holds_nul(event):
            raise EncodeError(f"{where}: a string holds NUL (\\u0000), which PostgreSQL refuses")
        if len(data) > self.max_bytes:
            raise EncodeError(
                f"{where}: payload is {len(data)} bytes, over the {self.max_bytes}-byte limit "
                f"(max_payload {MAX_PAYLOAD_BYTES} less {HEADER_ROOM} for headers)"
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
        if "event_id" not in event.model_fields_set:  # the default is for producers: each decode would differ
            raise DecodeError(f"invalid {self.subject.payload.NAME} at event_id: Field required")
        if _NUL in data and _holds_nul(event):
            raise DecodeError(f"invalid {self.subject.payload.NAME}: a string holds NUL (\\u0000)")
        while event.VERSION < self.subject.payload.VERSION:
            upcast = self._upcasters.get(event.VERSION)
            if upcast is None:
                raise DecodeError(f"no upcaster from schema_version {event.VERSION}")
            try:
                event = upcast(event)
            except Exception as exc:  # an upcaster's bug or a value it cannot carry: this message's fault
                raise DecodeError(
                    f"upcast from schema_version {event.VERSION}: {type(exc).__name__}: {exc}"
                ) from None
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


_NUL = b"\\u0000"
"""How JSON spells NUL; PostgreSQL text cannot hold it, so no event string may (checked only when present)."""


def _holds_nul(value: object) -> bool:
    if isinstance(value, Event):
        return _holds_nul(value.model_dump())
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


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

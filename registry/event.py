"""`Event`: the base of every bus payload (frozen, snake_case, unknown fields ignored)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from registry.ids import uuid7


class Event(BaseModel):
    """A versioned bus payload; subclass as `class Fill(Event, version=1)`.

    `schema_version` is always the first field, a constant equal to the declared version, so a consumer
    can dispatch on it before anything else; `event_id` (UUIDv7) is the event's identity and Msg-Id.
    """

    # No NaN/Infinity: JSON has neither, they re-encode as null, and no price or threshold is infinite.
    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False, allow_inf_nan=False)

    VERSION: ClassVar[int] = 0
    NAME: ClassVar[str] = ""
    EXAMPLES: ClassVar[tuple[Mapping[str, Any], ...]] = ()
    """Field values of typical payloads of this class (its own, not inherited): `gordon schemas check`
    encodes each and validates the wire JSON against every locked revision of this version (C7xx).
    A class attribute, so the JSON Schema and asyncapi.yaml stay as they are."""

    schema_version: int = 0
    event_id: UUID = Field(default_factory=uuid7, description="UUIDv7 identity; the Nats-Msg-Id.")

    def __init_subclass__(cls, version: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if version is None:
            return
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise TypeError(f"{cls.__name__}: version must be a positive int, got {version!r}")
        cls.VERSION = version
        cls.NAME = name or cls.__name__
        own = dict(inspect.get_annotations(cls))
        own.pop("schema_version", None)
        cls.__annotations__ = {"schema_version": Literal[version], **own}
        cls.schema_version = version

    @classmethod
    def schema_id(cls) -> str:
        """The `name:vN` string carried in the `Gordon-Schema` header."""
        return f"{cls.NAME}:v{cls.VERSION}"

"""The codec: round trips, version dispatch and upcasting, and a clear reason for every refusal."""

from __future__ import annotations

import json
import types
import typing
from decimal import Decimal
from enum import Enum
from typing import Any, Literal
from uuid import UUID

import pytest
from annotated_types import Ge, Gt
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic.fields import FieldInfo

from bench.samples import samples
from registry.codec import Codec, DecodeError, EncodeError
from registry.event import Event
from registry.subject import Service, Subject, Upcaster
from schemas import REGISTRY
from schemas.common import INT4_MAX, fits_integer
from schemas.market import Kline
from schemas.trading import FILLS, Fill

BY_MODEL = {s.payload: s for s in REGISTRY}
NO_NUL = st.characters(codec="utf-8", exclude_characters="\x00")
"""Event strings are UTF-8 without NUL (PostgreSQL text cannot store it): the codec refuses the rest."""


def field_strategy(info: FieldInfo) -> st.SearchStrategy[Any]:
    """Values for one model field, honouring its constraints (pattern, gt/ge, enums, Optional)."""
    annotation = info.annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = next(a for a in typing.get_args(annotation) if a is not type(None))
        return st.none() | field_strategy(FieldInfo.from_annotation(inner))
    if origin is Literal:
        return st.sampled_from(typing.get_args(annotation))
    pattern = next((m.pattern for m in info.metadata if getattr(m, "pattern", None)), None)
    low = next((m.gt for m in info.metadata if isinstance(m, Gt)), None)
    at_least = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from(list(annotation))
    if annotation is UUID:
        return st.uuids()
    if annotation is Decimal:
        return st.decimals(allow_nan=False, allow_infinity=False, places=8, min_value=-1e12, max_value=1e12)
    if annotation is float:
        lo = 1e-9 if low is not None else -1e12
        return st.floats(min_value=lo, max_value=1e12, allow_nan=False)
    if annotation is int:
        integer = any(getattr(m, "func", None) is fits_integer for m in info.metadata)  # PostgreSQL integer
        top = INT4_MAX if integer else 2**53
        return st.integers(min_value=int(at_least or 0) if at_least is not None else -top, max_value=top)
    if annotation is bool:
        return st.booleans()
    if annotation is str:
        return st.from_regex(pattern, fullmatch=True) if pattern else st.text(NO_NUL, max_size=40)
    raise AssertionError(f"no strategy for {annotation!r}")


def model_strategy(model: type[Event]) -> st.SearchStrategy[Event]:
    fields = {
        name: field_strategy(info) for name, info in model.model_fields.items() if name != "schema_version"
    }
    return st.fixed_dictionaries(fields).map(lambda values: model(**values))


@pytest.mark.parametrize("model", list(BY_MODEL), ids=lambda m: m.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_payload_round_trips(model: type[Event], data: st.DataObject) -> None:
    event = data.draw(model_strategy(model))
    codec = REGISTRY.codec(BY_MODEL[model])
    wire = codec.encode(event)
    assert codec.decode(wire) == event
    body = json.loads(wire)
    assert next(iter(body)) == "schema_version"
    assert body["schema_version"] == model.VERSION


def test_decimals_are_strings_on_the_wire() -> None:
    fill = samples()[Fill]
    body = json.loads(REGISTRY.codec(FILLS).encode(fill))
    assert body["qty"] == "0.0015"
    assert body["fee"] == "0.14145"


def test_unknown_fields_are_ignored() -> None:
    kline = samples()[Kline]
    codec = REGISTRY.codec(BY_MODEL[Kline])
    body = json.loads(codec.encode(kline))
    body["added_later"] = {"anything": [1, 2]}
    assert codec.decode(json.dumps(body).encode()) == kline


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b.update(schema_version=9), "unsupported schema_version 9 (known: [1])"),
        (lambda b: b.update(price="cheap"), "invalid Fill at price"),
        (lambda b: b.pop("order_id"), "invalid Fill at order_id: Field required"),
        (lambda b: b.update(symbol="btc/usdt"), "invalid Fill at symbol"),
        (lambda b: b.update(side="hold"), "invalid Fill at side"),
    ],
)
def test_decode_errors_name_the_reason(mutate: Any, reason: str) -> None:
    codec = REGISTRY.codec(FILLS)
    body = json.loads(codec.encode(samples()[Fill]))
    mutate(body)
    with pytest.raises(DecodeError) as info:
        codec.decode(json.dumps(body).encode())
    assert reason in info.value.reason


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1,2]", b"null", b"{" * 5000, b"\xff\xfe"])
def test_garbage_is_a_decode_error_not_a_crash(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        REGISTRY.codec(FILLS).decode(raw)


def test_encode_refuses_wrong_type_and_oversize() -> None:
    codec = REGISTRY.codec(FILLS)
    with pytest.raises(EncodeError, match="publishes Fill, got Kline"):
        codec.encode(samples()[Kline])  # type: ignore[arg-type]
    small = Codec(FILLS, max_bytes=100)
    with pytest.raises(EncodeError, match="over the 100-byte limit"):
        small.encode(samples()[Fill])
    with pytest.raises(DecodeError, match="exceeds 100"):
        small.decode(b" " * 101)


class PriceV1(Event, version=1, name="Price"):
    symbol: str
    price: float


class PriceV2(Event, version=2, name="Price"):
    symbol: str
    price: str
    source: str


def _upcast(old: PriceV1) -> PriceV2:
    return PriceV2(event_id=old.event_id, symbol=old.symbol, price=repr(old.price), source="v1")


PRICES = Subject(
    "test.prices",
    PriceV2,
    producer=Service.DATA,
    params=(),
    older=(PriceV1,),
    upcasters=(Upcaster(1, _upcast),),
)


def test_old_versions_are_dispatched_and_upcast_to_the_newest() -> None:
    codec = Codec(PRICES)
    old = PriceV1(symbol="BTCUSDT", price=1.5)
    decoded = codec.decode(old.model_dump_json().encode())
    assert decoded == PriceV2(event_id=old.event_id, symbol="BTCUSDT", price="1.5", source="v1")
    new = PriceV2(symbol="X", price="2", source="feed")
    assert codec.decode(codec.encode(new)) == new
    with pytest.raises(EncodeError):
        codec.encode(old)  # type: ignore[arg-type]
    with pytest.raises(DecodeError, match=r"unsupported schema_version 3 \(known: \[1, 2\]\)"):
        codec.decode(b'{"schema_version": 3, "symbol": "X"}')

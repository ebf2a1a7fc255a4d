"""Before/after pairs about values: types, required and null, enums, constraints (see pairs.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from .pairs import LegAddedV1, Less, More, Part, Payload, Side, Swapped

# --- types -----------------------------------------------------------------------------------


class IntToStrOld(Payload):
    qty: int


class IntToStrNew(Payload):
    qty: str


class IntToFloatOld(Payload):
    qty: int


class IntToFloatNew(Payload):
    qty: float


class FloatToIntOld(Payload):
    qty: float


class FloatToIntNew(Payload):
    qty: int


class DecimalToFloatOld(Payload):
    qty: Decimal


class DecimalToFloatNew(Payload):
    qty: float


class FloatToDecimalOld(Payload):
    qty: float


class FloatToDecimalNew(Payload):
    qty: Decimal


class StrToUuidOld(Payload):
    order_id: str


class StrToUuidNew(Payload):
    order_id: UUID


class UuidToStrOld(Payload):
    order_id: UUID


class UuidToStrNew(Payload):
    order_id: str


class DatetimeToDateOld(Payload):
    at: datetime


class DatetimeToDateNew(Payload):
    at: date


class ListItemOld(Payload):
    xs: list[int]


class ListItemNew(Payload):
    xs: list[str]


class ListToTupleOld(Payload):
    xs: list[int]


class ListToTupleNew(Payload):
    xs: tuple[int, int]


class MapValueOld(Payload):
    m: dict[str, int]


class MapValueNew(Payload):
    m: dict[str, str]


class UnionNarrowedOld(Payload):
    v: int | str


class UnionNarrowedNew(Payload):
    v: int


class UnionWidenedOld(Payload):
    v: int


class UnionWidenedNew(Payload):
    v: int | str


class ConstChangedOld(Payload):
    kind: Literal["limit"] = "limit"


class ConstChangedNew(Payload):
    kind: Literal["market"] = "market"


class EnumToStrOld(Payload):
    side: Side


class EnumToStrNew(Payload):
    side: str


class StrToEnumOld(Payload):
    side: str


class StrToEnumNew(Payload):
    side: Side


class AnyToIntOld(Payload):
    v: Any


class AnyToIntNew(Payload):
    v: int


# --- required and null -----------------------------------------------------------------------


class MadeRequiredOld(Payload):
    x: int = 0


class MadeRequiredNew(Payload):
    x: int


class MadeOptionalOld(Payload):
    x: int


class MadeOptionalNew(Payload):
    x: int = 0


class NullAddedOld(Payload):
    x: int


class NullAddedNew(Payload):
    x: int | None


class NullRemovedOld(Payload):
    x: int | None = None


class NullRemovedNew(Payload):
    x: int = 0


class OptionalModelRequiredOld(Payload):
    leg: LegAddedV1 | None = None


class OptionalModelRequiredNew(Payload):
    leg: LegAddedV1


# --- enums -----------------------------------------------------------------------------------


class EnumValueRemovedOld(Payload):
    side: Side


class EnumValueRemovedNew(Payload):
    side: Less.Side


class EnumValueAddedOld(Payload):
    side: Side


class EnumValueAddedNew(Payload):
    side: More.Side


class EnumSwappedOld(Payload):
    side: Side


class EnumSwappedNew(Payload):
    side: Swapped.Side


class LiteralAddedOld(Payload):
    tif: Literal["gtc", "ioc"] = "gtc"


class LiteralAddedNew(Payload):
    tif: Literal["gtc", "ioc", "fok"] = "gtc"


class EnumListOld(Payload):
    sides: list[Side]


class EnumListNew(Payload):
    sides: list[More.Side]


class OptionalEnumOld(Payload):
    side: Side | None = None


class OptionalEnumNew(Payload):
    side: Less.Side | None = None


# --- constraints -----------------------------------------------------------------------------


class GeToGtOld(Payload):
    qty: Annotated[float, Field(ge=0)]


class GeToGtNew(Payload):
    qty: Annotated[float, Field(gt=0)]


class GtToGeOld(Payload):
    qty: Annotated[float, Field(gt=0)]


class GtToGeNew(Payload):
    qty: Annotated[float, Field(ge=0)]


class MaxLengthDownOld(Payload):
    symbol: Annotated[str, Field(max_length=10)]


class MaxLengthDownNew(Payload):
    symbol: Annotated[str, Field(max_length=5)]


class MaxLengthUpOld(Payload):
    symbol: Annotated[str, Field(max_length=5)]


class MaxLengthUpNew(Payload):
    symbol: Annotated[str, Field(max_length=10)]


class MinLengthAddedOld(Payload):
    symbol: str


class MinLengthAddedNew(Payload):
    symbol: Annotated[str, Field(min_length=1)]


class PatternChangedOld(Payload):
    symbol: Annotated[str, Field(pattern=r"^[A-Z]+$")]


class PatternChangedNew(Payload):
    symbol: Annotated[str, Field(pattern=r"^[A-Z]+USDT$")]


class PatternRemovedOld(Payload):
    symbol: Annotated[str, Field(pattern=r"^[A-Z]+$")]


class PatternRemovedNew(Payload):
    symbol: str


class MaxItemsAddedOld(Payload):
    xs: list[int]


class MaxItemsAddedNew(Payload):
    xs: Annotated[list[int], Field(max_length=3)]


class MultipleLoosenedOld(Payload):
    step: Annotated[float, Field(multiple_of=0.5)]


class MultipleLoosenedNew(Payload):
    step: Annotated[float, Field(multiple_of=0.25)]


class MultipleTightenedOld(Payload):
    step: Annotated[float, Field(multiple_of=0.25)]


class MultipleTightenedNew(Payload):
    step: Annotated[float, Field(multiple_of=0.5)]


class DecimalBoundOld(Payload):
    qty: Annotated[Decimal, Field(gt=0)]


class DecimalBoundNew(Payload):
    qty: Annotated[Decimal, Field(gt=1)]


class UpperBoundOld(Payload):
    pct: Annotated[int, Field(le=100)]


class UpperBoundNew(Payload):
    pct: Annotated[int, Field(lt=100)]


class SetToListOld(Payload):
    tags: set[str]


class SetToListNew(Payload):
    tags: list[str]


class ForbidPartV1(Part):
    x: int


class ForbidPartV2(Part):
    model_config = ConfigDict(extra="forbid")
    x: int


class NestedForbidOld(Payload):
    part: ForbidPartV1


class NestedForbidNew(Payload):
    part: ForbidPartV2


# --- loosened constraints: old consumers reject what the new schema admits (C332 breaks) ------


class PriceGtToGeOld(Payload):
    price: Annotated[float, Field(gt=0, description="Price in quote currency")]


class PriceGtToGeNew(Payload):
    price: Annotated[float, Field(ge=0, description="Price in quote currency")]


class LowerBoundRemovedOld(Payload):
    version: Annotated[int, Field(ge=1)]


class LowerBoundRemovedNew(Payload):
    version: int


class NestedOpenedOld(Payload):
    part: ForbidPartV2


class NestedOpenedNew(Payload):
    part: ForbidPartV1

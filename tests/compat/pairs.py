"""Before/after payload models, one pair per compatibility case (`<Case>Old` -> `<Case>New`).

Every payload and every nested part carries a fixed title, so class names (which must differ
between the two sides of a pair) do not show up as title changes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Payload(BaseModel):
    # a version-1 payload as the registry declares them: schema_version first, frozen, extra ignored
    model_config = ConfigDict(title="Payload", frozen=True, extra="ignore")
    schema_version: Literal[1] = 1


class Part(BaseModel):
    # a nested model inside a payload
    model_config = ConfigDict(title="Part", frozen=True, extra="ignore")


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class More:
    # changed versions of `Side` keep the class name, so the schema title stays "Side"
    class Side(StrEnum):
        BUY = "buy"
        SELL = "sell"
        CLOSE = "close"


class Less:
    class Side(StrEnum):
        BUY = "buy"


class Swapped:
    class Side(StrEnum):
        BUY = "buy"
        SHORT = "short"


# --- the set and order of fields -------------------------------------------------------------


class RemovedOld(Payload):
    a: int
    b: str


class RemovedNew(Payload):
    a: int


class RemovedOptionalOld(Payload):
    a: int
    note: str | None = None


class RemovedOptionalNew(Payload):
    a: int


class RenamedOld(Payload):
    qty: Decimal
    price: float


class RenamedNew(Payload):
    quantity: Decimal
    price: float


class ReplacedOld(Payload):
    a: int
    b: int


class ReplacedNew(Payload):
    a: int
    c: str


class AddedRequiredOld(Payload):
    a: int


class AddedRequiredNew(Payload):
    a: int
    b: int


class AddedOptionalOld(Payload):
    a: int


class AddedOptionalNew(Payload):
    a: int
    b: int = 0
    c: str | None = None
    d: list[int] = Field(default_factory=list)


class InsertedOld(Payload):
    a: int
    b: int


class InsertedNew(Payload):
    a: int
    x: int = 0
    b: int


class InsertedRequiredOld(Payload):
    a: int


class InsertedRequiredNew(Payload):
    x: int
    a: int


class ReorderedOld(Payload):
    a: int
    b: str


class ReorderedNew(Payload):
    b: str
    a: int


class RenamedAndAppendedOld(Payload):
    a: int
    b: str


class RenamedAndAppendedNew(Payload):
    a: int
    bee: str
    c: int = 0


# --- nested models and arrays ----------------------------------------------------------------


class LegRemovedV1(Part):
    price: Decimal
    qty: Decimal


class LegRemovedV2(Part):
    qty: Decimal


class NestedRemovedOld(Payload):
    leg: LegRemovedV1


class NestedRemovedNew(Payload):
    leg: LegRemovedV2


class ItemRemovedOld(Payload):
    legs: list[LegRemovedV1]


class ItemRemovedNew(Payload):
    legs: list[LegRemovedV2]


class LegAddedV1(Part):
    price: Decimal


class LegAddedV2(Part):
    price: Decimal
    venue: str = "binance"


class NestedAddedOld(Payload):
    legs: list[LegAddedV1]


class NestedAddedNew(Payload):
    legs: list[LegAddedV2]


class LegRetypedV1(Part):
    price: int


class LegRetypedV2(Part):
    price: str


class NestedRetypedOld(Payload):
    leg: LegRetypedV1 | None = None


class NestedRetypedNew(Payload):
    leg: LegRetypedV2 | None = None


class LegDocV1(Part):
    """One leg of a spread."""

    price: Decimal


class LegDocV2(Part):
    """One leg of a spread, priced in quote currency."""

    price: Decimal


class NestedDocOld(Payload):
    leg: LegDocV1


class NestedDocNew(Payload):
    leg: LegDocV2


class Tree(Part):
    value: int
    children: list[Tree] = Field(default_factory=list)


class TreeRetyped(Part):
    value: str
    children: list[TreeRetyped] = Field(default_factory=list)


class RecursiveSameOld(Payload):
    root: Tree


class RecursiveSameNew(Payload):
    root: Tree


class RecursiveOld(Payload):
    root: Tree


class RecursiveNew(Payload):
    root: TreeRetyped


class ModelToStrOld(Payload):
    leg: LegAddedV1


class ModelToStrNew(Payload):
    leg: str


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


# --- documentation ---------------------------------------------------------------------------


class DescriptionOld(Payload):
    ts_ms: int = Field(description="UTC milliseconds")


class DescriptionNew(Payload):
    ts_ms: int = Field(description="Exchange time, UTC milliseconds")


class TitleOld(Payload):
    ts_ms: int


class TitleNew(Payload):
    ts_ms: int = Field(title="Timestamp")


class DefaultOld(Payload):
    venue: str = "binance"


class DefaultNew(Payload):
    venue: str = "bybit"


class ExamplesOld(Payload):
    symbol: str


class ExamplesNew(Payload):
    symbol: str = Field(examples=["BTCUSDT"])


class DeprecatedOld(Payload):
    legacy: int = 0


class DeprecatedNew(Payload):
    legacy: int = Field(default=0, deprecated=True)


class DescribedBoundOld(Payload):
    pct: Annotated[int, Field(le=100)]


class DescribedBoundNew(Payload):
    pct: Annotated[int, Field(le=100, description="percent")]


# --- unions of models ------------------------------------------------------------------------


class Cash(BaseModel):
    model_config = ConfigDict(title="Cash", frozen=True)
    kind: Literal["cash"] = "cash"
    amount: Decimal


class CashRetyped(BaseModel):
    model_config = ConfigDict(title="Cash", frozen=True)
    kind: Literal["cash"] = "cash"
    amount: int


class Margin(BaseModel):
    model_config = ConfigDict(title="Margin", frozen=True)
    kind: Literal["margin"] = "margin"
    leverage: int


class MemberAddedOld(Payload):
    account: Cash


class MemberAddedNew(Payload):
    account: Annotated[Cash | Margin, Field(discriminator="kind")]


class MemberRemovedOld(Payload):
    account: Annotated[Cash | Margin, Field(discriminator="kind")]


class MemberRemovedNew(Payload):
    account: Cash


class MemberChangedOld(Payload):
    account: Annotated[Cash | Margin, Field(discriminator="kind")]


class MemberChangedNew(Payload):
    account: Annotated[CashRetyped | Margin, Field(discriminator="kind")]


# --- schema_version --------------------------------------------------------------------------


class VersionRemovedOld(Payload):
    a: int


class VersionRemovedNew(BaseModel):
    model_config = ConfigDict(title="Payload", frozen=True, extra="ignore")
    a: int


class VersionRetypedOld(Payload):
    a: int


class VersionRetypedNew(BaseModel):
    model_config = ConfigDict(title="Payload", frozen=True, extra="ignore")
    schema_version: int = 1
    a: int


class VersionNotFirst(BaseModel):
    a: int
    schema_version: Literal[1] = 1


class VersionWrongConstant(BaseModel):
    schema_version: Literal[2] = 2
    a: int


class VersionBool(BaseModel):
    schema_version: Literal[True] = True
    a: int


class NoVersion(BaseModel):
    a: int


class Fill(Payload):
    bot_id: str
    order_id: UUID
    symbol: str
    side: Side
    qty: Decimal
    price: float
    fee: Decimal
    ts_ms: int

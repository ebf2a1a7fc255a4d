"""Before/after payload models, one pair per compatibility case (`<Case>Old` -> `<Case>New`).

Every payload and every nested part carries a fixed title, so class names (which must differ
between the two sides of a pair) do not show up as title changes.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

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

"""Before/after pairs about documentation, unions of models and schema_version (see pairs.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from .pairs import Payload, Side

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

"""Response and request bodies as the browser sees them: camelCase keys, decimals as strings.

Every model derives its aliases with `to_camel`; routes answer `by_alias`, so /openapi.json documents
the camelCase keys. Domain states and bus events stay snake_case: the conversion happens here only.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import operator
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from domain.latch import LatchState
from domain.orders import OrderState
from domain.positions import PositionState
from projections.fills import FillRow
from schemas.risk import BreakerEvent

DECIMAL = "a decimal number as a string, in positional notation"


def decimal_text(value: Decimal) -> str:
    """`value` without an exponent ("0.00000000", never "0E-8"), as JavaScript's Number() reads it."""
    return format(value, "f")


def _bare(hint: Any) -> Any:
    """`hint` without `Annotated` constraints (the API re-states no wire validation), inside unions too."""
    if typing.get_origin(hint) is Annotated:
        return _bare(typing.get_args(hint)[0])
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return functools.reduce(operator.or_, [_bare(a) for a in typing.get_args(hint)])
    return hint


def source_fields(source: type[Any]) -> dict[str, Any]:
    """The fields of a domain state (dataclass) or a bus payload (without `schema_version`), with types."""
    if dataclasses.is_dataclass(source):
        hints = typing.get_type_hints(source)
        return {f.name: hints[f.name] for f in dataclasses.fields(source)}
    assert issubclass(source, BaseModel), source
    return {n: _bare(f.annotation) for n, f in source.model_fields.items() if n != "schema_version"}


class CamelModel(BaseModel):
    """A body whose JSON keys are the camelCase of its fields.

    `class Order(CamelModel, of=OrderState)` takes its fields from the state (or payload) it shows, each
    decimal as a string, so a state's fields are not listed again here; `notes` describe fields.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    def __init_subclass__(
        cls, of: type[Any] | None = None, notes: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if of is None:
            return
        notes = notes or {}
        fields: dict[str, Any] = {}
        for name, hint in source_fields(of).items():
            note = notes.get(name, DECIMAL if hint is Decimal else None)
            shown = str if hint is Decimal else hint
            fields[name] = shown if note is None else Annotated[shown, Field(description=note)]
        cls.__annotations__ = {**fields, **inspect.get_annotations(cls)}

    @classmethod
    def of(cls, source: object, **extra: Any) -> Self:
        """The body showing `source` (a state or payload) and the `extra` fields the body adds to it,
        decimals in positional notation."""
        values = {name: extra[name] if name in extra else getattr(source, name) for name in cls.model_fields}
        return cls(**{n: decimal_text(v) if isinstance(v, Decimal) else v for n, v in values.items()})


class Order(CamelModel, of=OrderState):
    pass


class OrderPage(CamelModel):
    items: list[Order]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class FillView(
    CamelModel,
    of=FillRow,
    notes={
        "event_id": "the fill event's id (its Nats-Msg-Id; the /ws feed's data.eventId)",
        "priced_at_ms": "the open time of the 1m kline whose close priced the fill (null: not known)",
        "position_qty": DECIMAL + ": the bot's position in the symbol after this fill (negative: short)",
        "avg_entry_price": DECIMAL + ": the position's average entry price after this fill",
        "realized_pnl": DECIMAL + ": the position's realized PnL after this fill (quote asset, gross)",
        "fees": DECIMAL + ": the position's fees so far, in the quote asset",
    },
):
    pass


class FillPage(CamelModel):
    items: list[FillView]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class Position(CamelModel, of=PositionState, notes={"qty": DECIMAL + " (negative: short)"}):
    mark_price: float | None = Field(
        description="the last 1m close of the symbol (the price risk marks it at); null before any kline"
    )
    mark_ms: int | None = Field(description="the close time of that kline (UTC milliseconds)")
    unrealized_pnl: str | None = Field(
        description=DECIMAL + ": qty x (mark - average entry), quote asset, 1e-8; null without a mark"
    )


class PositionList(CamelModel):
    items: list[Position]


class Latch(
    CamelModel,
    of=LatchState,
    notes={
        "breaker": "the breaker of the last change (manual for a resume)",
        "trips": "trips since the last resume",
    },
):
    pass


class BreakerChange(CamelModel, of=BreakerEvent):
    pass


class RiskView(CamelModel):
    latch: Latch
    recent_events: list[BreakerChange] = Field(description="breaker events the manager saw, newest first")

"""Before/after payloads for the wire check (C7xx): each pair keeps its annotations and JSON Schema,
and the `New` side changes what the encoder emits, or declares an example that cannot hold."""

from __future__ import annotations

from decimal import Decimal

from pydantic import ConfigDict, field_serializer

from registry.event import Event
from schemas.common import DecimalStr, Price

EXAMPLE = {"qty": "0.015", "price": 64250.5}


class DecimalWireOld(Event, version=1, name="Widget"):
    # qty is a decimal string on the wire, as its schema says
    model_config = ConfigDict(title="Widget")
    qty: DecimalStr
    price: Price

    EXAMPLES = (EXAMPLE,)


class DecimalWireNew(Event, version=1, name="Widget"):
    # the same annotation and JSON Schema, but a serializer now sends qty as a JSON number
    model_config = ConfigDict(title="Widget")
    qty: DecimalStr
    price: Price

    EXAMPLES = (EXAMPLE,)

    @field_serializer("qty", when_used="json")
    def _qty_as_number(self, qty: Decimal) -> float:
        return float(qty)


class ExampleInvalidOld(Event, version=1, name="Widget"):
    model_config = ConfigDict(title="Widget")
    qty: DecimalStr
    price: Price

    EXAMPLES = (EXAMPLE,)


class ExampleInvalidNew(Event, version=1, name="Widget"):
    # the example no longer fits its own model (a price must be positive)
    model_config = ConfigDict(title="Widget")
    qty: DecimalStr
    price: Price

    EXAMPLES = ({**EXAMPLE, "price": 0},)


class RoundTripOld(Event, version=1, name="Widget"):
    model_config = ConfigDict(title="Widget")
    qty: DecimalStr
    price: Price

    EXAMPLES = (EXAMPLE,)


class RoundTripNew(Event, version=1, name="Widget"):
    # the encoder pads decimals to 48 places: the schema's pattern accepts that, the decoder (at most
    # 40 digits) refuses it
    model_config = ConfigDict(title="Widget")
    qty: DecimalStr
    price: Price

    EXAMPLES = (EXAMPLE,)

    @field_serializer("qty", when_used="json")
    def _qty_padded(self, qty: Decimal) -> str:
        return f"{qty:.48f}"

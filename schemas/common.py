"""Shared payload field types and subject parameters (the conventions: UTC ms timestamps, Binance symbols)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field, WithJsonSchema

from registry.tokens import Param, enum_param

DECIMAL_DIGITS = 40
"""Most significant digits, and largest power of ten either way, of a wire decimal."""


def bounded_decimal(value: Decimal) -> Decimal:
    """Refuse a decimal no quantity needs and that would break downstream (`1e999999999` overflows
    Python's default context and PostgreSQL NUMERIC, halting a projection)."""
    if value and (len(value.as_tuple().digits) > DECIMAL_DIGITS or abs(value.adjusted()) > DECIMAL_DIGITS):
        raise ValueError(
            f"decimal out of range (more than {DECIMAL_DIGITS} digits or beyond 1e+/-{DECIMAL_DIGITS})"
        )
    return value


DecimalStr = Annotated[
    Decimal,
    AfterValidator(bounded_decimal),
    WithJsonSchema({"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}),
]
"""A quantity or fee: NUMERIC in Postgres, a decimal string on the wire (never a float)."""


INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1


def fits_integer(value: int) -> int:
    """Refuse a count or version PostgreSQL `integer` cannot hold (the projection would halt on it)."""
    if not -INT4_MAX - 1 <= value <= INT4_MAX:
        raise ValueError(f"{value} is out of the range of a PostgreSQL integer")
    return value


def fits_bigint(value: int) -> int:
    """Refuse a timestamp PostgreSQL `bigint` cannot hold."""
    if value > INT8_MAX:
        raise ValueError(f"{value} is over {INT8_MAX}, the largest PostgreSQL bigint")
    return value


TimestampMs = Annotated[
    int, Field(ge=0, description="UTC milliseconds since the Unix epoch"), AfterValidator(fits_bigint)
]
Symbol = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,20}$", description="Binance-native symbol, e.g. BTCUSDT")]
Price = Annotated[float, Field(gt=0, description="Price in quote currency")]
Version = Annotated[
    int, Field(ge=1, description="Per-aggregate version, gapless from 1"), AfterValidator(fits_integer)
]
Count = Annotated[int, AfterValidator(fits_integer)]
"""A count stored as PostgreSQL `integer` (a kline's trades)."""


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class Market(StrEnum):
    SPOT = "spot"
    PERP = "perp"


class Timeframe(StrEnum):
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


def bot_token(bot_id: UUID) -> str:
    """The subject token of a bot: its UUID with hyphens replaced by underscores (NATS tokens stay plain)."""
    return str(bot_id).replace("-", "_")


MARKET = enum_param("market", tuple(m.value for m in Market), "Binance market: spot or perp")
SYMBOL_LC = Param("symbol_lc", r"[a-z0-9]{2,20}", "Lowercase Binance symbol, e.g. btcusdt", ("btcusdt",))
TF = enum_param("tf", tuple(t.value for t in Timeframe), "Kline time frame; 1m is canonical")
BOT_ID = Param(
    "bot_id",
    r"[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}",
    "Bot UUIDv7 with hyphens replaced by underscores",
    ("01935f0e_8c2a_7b3d_9f10_2b6c1d4e5f60",),
)
BOT_UUID = Param(
    "bot_id",
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "Bot UUIDv7 as written (hyphens), used in durable names",
    ("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60",),
)

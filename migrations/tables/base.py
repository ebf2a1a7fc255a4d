"""The shared `MetaData` (with a naming convention, so constraint names are stable) and helpers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import UserDefinedType

SCHEMAS: tuple[str, ...] = ("bus", "trading", "market_data", "paper")
"""Every schema the migrations own; `trading` has no tables yet."""

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

NOW_MS = sa.text("(floor(extract(epoch FROM now()) * 1000))::bigint")
"""Server default for `*_ms` columns: the transaction's start time in UTC milliseconds."""


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id type (`xid8`), which SQLAlchemy does not ship."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "XID8"

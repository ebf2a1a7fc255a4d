"""Breaker thresholds from `trading.risk_config`, the bots' symbols, and the initial capital setting."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import asyncpg

from schemas.common import Market
from schemas.risk import Breaker
from settings.errors import GordonError

INITIAL_CAPITAL = "GORDON_RISK_INITIAL_CAPITAL"
DEFAULT_INITIAL_CAPITAL = Decimal("10000")
"""USDT the account starts with: equity is this plus the bots' PnL."""


@dataclass(frozen=True)
class BreakerConfig:
    """One row of trading.risk_config."""

    breaker: Breaker
    enabled: bool
    threshold: float
    window_ms: int
    description: str


class RiskConfig:
    """Every breaker's configuration by name."""

    def __init__(self, rows: Mapping[Breaker, BreakerConfig]) -> None:
        self.rows = dict(rows)

    def enabled(self, breaker: Breaker) -> BreakerConfig | None:
        """The breaker's configuration when it is enabled, else None."""
        row = self.rows.get(breaker)
        return row if row is not None and row.enabled else None


async def load_config(conn: asyncpg.Connection | asyncpg.Pool) -> RiskConfig:
    """Read trading.risk_config (rows naming no known breaker are ignored)."""
    rows = await conn.fetch(
        "SELECT breaker, enabled, threshold, window_ms, description FROM trading.risk_config ORDER BY breaker"
    )
    known = {b.value for b in Breaker}
    return RiskConfig(
        {
            Breaker(r["breaker"]): BreakerConfig(
                Breaker(r["breaker"]), r["enabled"], r["threshold"], r["window_ms"], r["description"]
            )
            for r in rows
            if r["breaker"] in known
        }
    )


async def traded_symbols(conn: asyncpg.Connection | asyncpg.Pool) -> frozenset[tuple[Market, str]]:
    """The (market, symbol) every configured bot trades, from trading.bot_configs."""
    rows = await conn.fetch("SELECT DISTINCT market, symbol FROM trading.bot_configs")
    return frozenset((Market(r["market"]), r["symbol"]) for r in rows)


def initial_capital(env: Mapping[str, str] | None = None) -> Decimal:
    """GORDON_RISK_INITIAL_CAPITAL (default 10000), a positive number."""
    env = os.environ if env is None else env
    text = env.get(INITIAL_CAPITAL, "").strip()
    if not text:
        return DEFAULT_INITIAL_CAPITAL
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise GordonError(f"{INITIAL_CAPITAL}: expected a number, got {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise GordonError(f"{INITIAL_CAPITAL}: must be a positive number, got {text!r}")
    return value

"""A bot's configuration (a row of trading.bot_configs) and loading the running ones."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from schemas.common import Market, Timeframe
from services.bot.strategy import NAME, ParamsError, SmaParams

log = logging.getLogger(__name__)

RUNNING = """
SELECT bot_id, symbol, market, tf, strategy, params FROM trading.bot_configs
WHERE desired_state = 'running' ORDER BY bot_id
"""


@dataclass(frozen=True)
class BotConfig:
    """One bot: the series it trades (Binance-native symbol) and its SMA crossover params."""

    bot_id: UUID
    symbol: str
    market: Market
    tf: Timeframe
    params: SmaParams

    @property
    def durable_values(self) -> dict[str, str]:
        """The values naming its durable: bot-{bot_id}-{market}-{symbol_lc}-{tf}-klines."""
        return {
            "bot_id": str(self.bot_id),
            "market": self.market.value,
            "symbol_lc": self.symbol.lower(),
            "tf": self.tf.value,
        }

    @classmethod
    def from_row(cls, row: asyncpg.Record | dict[str, Any]) -> BotConfig:
        """Check a bot_configs row; a bad one raises ParamsError with one line naming the bot."""
        bot_id = row["bot_id"]
        try:
            if row["strategy"] != NAME:
                raise ParamsError(f"unknown strategy {row['strategy']!r} (this service runs {NAME!r})")
            raw = row["params"]
            params = json.loads(raw) if isinstance(raw, str) else raw
            if not isinstance(params, dict):
                raise ParamsError(f"params must be a JSON object, got {raw!r}")
            return cls(
                bot_id=bot_id if isinstance(bot_id, UUID) else UUID(str(bot_id)),
                symbol=_symbol(row["symbol"]),
                market=Market(row["market"]),
                tf=Timeframe(row["tf"]),
                params=SmaParams.parse(params),
            )
        except ValueError as exc:
            raise ParamsError(f"bot {bot_id}: {exc}") from None


SYMBOL = re.compile(r"[A-Z0-9]{2,20}")


def _symbol(symbol: str) -> str:
    if not SYMBOL.fullmatch(symbol):
        raise ParamsError(f"symbol must be Binance-native (e.g. BTCUSDT), got {symbol!r}")
    return symbol


async def load_running(conn: asyncpg.Connection) -> list[BotConfig]:
    """Every bot whose desired state is running; a bad row is logged in one line and skipped, so one
    misconfigured bot does not stop the others."""
    configs = []
    for row in await conn.fetch(RUNNING):
        try:
            configs.append(BotConfig.from_row(row))
        except ParamsError as exc:
            log.error("skipping %s", exc)
    return configs

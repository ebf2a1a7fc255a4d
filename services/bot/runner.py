"""One bot's kline handler: fold a closed candle into its stored state and, on a signal, write the intent
and its outbox row (or hold it back), and the signal's row of the strategy log (`trading.signals`), all in
one transaction as gordon_bot that first renews the bot's lease row: once another process took the bot
over, that raises `LeaseLost` and nothing commits (the consume path NAKs; the new holder acks)."""

from __future__ import annotations

import enum
import json
import logging
from typing import cast
from uuid import UUID

import asyncpg

from producers.channels import INTENTS
from registry.ids import uuid7
from schemas.common import OrderType, Side
from schemas.intents import OrderIntent
from schemas.market import Kline
from services.bot import strategy
from services.bot.config import BotConfig
from services.bot.leases import Leases
from services.bot.warmup import last_closes
from services.runtime import ServiceRuntime

log = logging.getLogger(__name__)

DEFAULT_VALIDITY_MS = 30_000

LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('gordon-bot-' || $1::text, 0))"
LOAD = "SELECT state, last_open_time_ms FROM trading.bot_strategy_state WHERE bot_id = $1"
SAVE = """
INSERT INTO trading.bot_strategy_state (bot_id, state, last_open_time_ms, updated_ms)
VALUES ($1, $2::jsonb, $3, $4)
ON CONFLICT (bot_id) DO UPDATE
SET state = EXCLUDED.state, last_open_time_ms = EXCLUDED.last_open_time_ms, updated_ms = EXCLUDED.updated_ms
"""
LATCH_VIEW = "SELECT to_regclass('trading.risk_state') IS NOT NULL"
HALTED = "SELECT coalesce(bool_or(halted), false) FROM trading.risk_state WHERE latch_id = 'global'"
DESIRED = "SELECT desired_state FROM trading.bot_configs WHERE bot_id = $1"
SIGNAL = """
INSERT INTO trading.signals (id, run_id, bot_id, symbol, market, side, candle_open_ms, close, outcome, reason,
                             intent_id, ts_ms)
VALUES ($1, (SELECT id FROM trading.runs WHERE bot_id = $2 AND status = 'running'), $2, $3, $4, $5, $6, $7,
        $8, $9, $10, $11)
"""
INTENT = """
INSERT INTO trading.order_intents (intent_id, event_id, bot_id, symbol, market, side, order_type, qty,
                                   limit_price, created_ms, valid_until_ms, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""


class Outcome(enum.StrEnum):
    """What one kline did."""

    FORMING = "forming"  # not closed: ignored
    SEEN = "seen"  # at or before the stored last_open_time_ms: a redelivery, changes nothing
    FOLDED = "folded"  # state advanced, no signal
    EMITTED = "emitted"  # an intent was written with its outbox row
    SUPPRESSED = "suppressed"  # a signal the risk latch (or a paused bot) held back


class BotRunner:
    """Handles the klines of one bot, in its durable's order."""

    def __init__(
        self,
        config: BotConfig,
        runtime: ServiceRuntime,
        validity_ms: int = DEFAULT_VALIDITY_MS,
        leases: Leases | None = None,
    ):
        if validity_ms <= 0:
            raise ValueError(f"intent validity must be positive, got {validity_ms} ms")
        self.config = config
        self.runtime = runtime
        self.validity_ms = validity_ms
        self.leases = leases
        self._latch_view_warned = False

    async def handle(self, kline: Kline) -> Outcome:
        """Fold `kline`; redeliveries and forming candles change nothing."""
        if not kline.closed:
            return Outcome.FORMING
        params = self.config.params
        async with self.runtime.pool.acquire() as proxy, proxy.transaction():
            conn = cast(asyncpg.Connection, proxy)  # the pool hands out proxies of a Connection
            await conn.execute(LOCK, str(self.config.bot_id))
            if self.leases is not None:  # the fence: nothing below commits once another process runs the bot
                await self.leases.renew(conn, self.config.bot_id, self.runtime.clock())
            row = await conn.fetchrow(LOAD, self.config.bot_id)
            if row is None:
                history = await last_closes(conn, self.config, kline.open_time_ms, params.slow)
                before = strategy.warm(params, history)
            elif kline.open_time_ms <= row["last_open_time_ms"]:
                return Outcome.SEEN
            else:
                before = strategy.SmaState.from_json(json.loads(row["state"]))
            after, signal = strategy.fold(params, before, kline.close)
            outcome = Outcome.FOLDED
            if signal is not None:
                held = await self._held_back(conn)
                intent_id: UUID | None = None
                if held:
                    after = strategy.suppress(before, after, signal, held)
                    outcome = Outcome.SUPPRESSED
                    log.warning("bot %s: %s signal suppressed (%s)", self.config.bot_id, signal, held)
                else:
                    intent_id = await self._emit(conn, signal, kline)
                    outcome = Outcome.EMITTED
                await self._log_signal(conn, signal, kline, outcome, held or "", intent_id)
            now = self.runtime.clock()
            state_json = json.dumps(after.to_json())
            await conn.execute(SAVE, self.config.bot_id, state_json, kline.open_time_ms, now)
        return outcome

    async def _held_back(self, conn: asyncpg.Connection) -> str | None:
        """Why a signal must not become an intent now: the global latch is halted, or the bot is no
        longer meant to run. A missing latch view holds nothing back: the executor enforces the halt."""
        desired = await conn.fetchval(DESIRED, self.config.bot_id)
        if desired != "running":
            return f"bot is {desired or 'deleted'}"
        if not await conn.fetchval(LATCH_VIEW):
            if not self._latch_view_warned:
                log.warning("trading.risk_state does not exist yet; the bot cannot see the halt latch")
                self._latch_view_warned = True
            return None
        if await conn.fetchval(HALTED):
            return "risk latch halted"
        return None

    async def _log_signal(
        self,
        conn: asyncpg.Connection,
        side: Side,
        kline: Kline,
        outcome: Outcome,
        reason: str,
        intent_id: UUID | None,
    ) -> None:
        """Write the strategy log's row of a signal (`trading.signals`), in the kline's transaction."""
        now = self.runtime.clock()
        config = self.config
        await conn.execute(
            SIGNAL,
            uuid7(now),
            config.bot_id,
            config.symbol,
            config.market.value,
            side.value,
            kline.open_time_ms,
            kline.close,
            outcome.value,
            reason,
            intent_id,
            now,
        )

    async def _emit(self, conn: asyncpg.Connection, side: Side, kline: Kline) -> UUID:
        config, params = self.config, self.config.params
        now = self.runtime.clock()
        cross = "golden" if side is Side.BUY else "death"
        intent = OrderIntent(
            intent_id=uuid7(now),
            bot_id=config.bot_id,
            symbol=config.symbol,
            market=config.market,
            side=side,
            order_type=OrderType.MARKET,
            qty=params.qty,
            created_ms=now,
            valid_until_ms=now + self.validity_ms,
            reason=f"sma {params.fast}/{params.slow} {cross} cross at candle {kline.open_time_ms}",
        )
        await conn.execute(
            INTENT,
            intent.intent_id,
            intent.event_id,
            intent.bot_id,
            intent.symbol,
            intent.market.value,
            intent.side.value,
            intent.order_type.value,
            intent.qty,
            intent.limit_price,
            intent.created_ms,
            intent.valid_until_ms,
            intent.reason,
        )
        await self.runtime.outbox.publish_within(conn, INTENTS(), intent)
        log.info(
            "bot %s: %s %s %s (intent %s)", config.bot_id, side, intent.qty, config.symbol, intent.intent_id
        )
        return intent.intent_id

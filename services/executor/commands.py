"""Risk commands: pause and resume new orders, flatten positions; each command takes effect once.

Idempotency: the inbox records the command's `event_id` (a redelivery or dead-letter replay) and its
`command_id` (the same command re-issued as a new event) in the handling transaction.
Flatten cancels the resting orders, then closes every open position of the bot (or of all bots) with a
market order against it. Positions come from the executor's own `trading.fill_events`, folded with
`domain.positions.apply_fill` under each position's head lock, never from the positions read model.
Flatten works while paused or halted: it is what a halt asks for. A closing order the exchange rejects
(no price) is recorded as rejected and the others still go through.
Each command applied is logged in trading.bot_events ('paused', 'resumed', 'flattened') in its handling
transaction, one row per bot it reaches: its bot, or every bot with a running run when it names none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast
from uuid import UUID

import asyncpg

from consumers.inbox import first_time
from domain.orders import OrderState, OrderStatus
from domain.positions import PositionState
from schemas.common import OrderType, Side
from schemas.intents import OrderIntent
from schemas.risk import CommandKind, RiskCommand
from services.executor.holdings import position_of
from services.executor.trader import Trader
from stores.bot_events import BotEventKind, record, running_runs

log = logging.getLogger(__name__)

CONSUMER = "executor-risk"
COMMAND_IDS = "executor-risk:command_id"
SET_PAUSED = "UPDATE trading.executor_controls SET paused = $1, reason = $2, changed_ms = $3 WHERE id = 1"
KINDS = {
    CommandKind.PAUSE: BotEventKind.PAUSED,
    CommandKind.RESUME: BotEventKind.RESUMED,
    CommandKind.FLATTEN: BotEventKind.FLATTENED,
}
POSITION_KEYS = """
SELECT DISTINCT bot_id, symbol FROM trading.fill_events WHERE ($1::uuid IS NULL OR bot_id = $1)
ORDER BY bot_id, symbol
"""


@dataclass(frozen=True)
class Flattened:
    """What a flatten did: the orders it cancelled and the closing orders it placed."""

    cancelled: int
    closing: list[OrderState]


class Commands:
    """Handles `risk.commands`."""

    def __init__(self, trader: Trader) -> None:
        self.trader = trader

    async def handle(self, pool: asyncpg.Pool, command: RiskCommand, now_ms: int) -> bool:
        """Apply `command` once; False when it was already applied."""
        async with pool.acquire() as proxy, proxy.transaction():
            conn = cast(asyncpg.Connection, proxy)  # the pool hands out proxies of a Connection
            if not await first_time(conn, CONSUMER, command.event_id):
                return False
            if not await first_time(conn, COMMAND_IDS, command.command_id):
                return False
            detail = f"{command.command.value} {command.command_id}: {command.reason}"
            if command.command is CommandKind.FLATTEN:
                done = await self.flatten(conn, command, now_ms)
                log.info(
                    "flatten %s: %d cancelled, %d closing",
                    command.command_id,
                    done.cancelled,
                    len(done.closing),
                )
                detail += f" ({done.cancelled} cancelled, {len(done.closing)} closing)"
            else:
                paused = command.command is CommandKind.PAUSE
                await conn.execute(SET_PAUSED, paused, command.reason, now_ms)
            await record(conn, KINDS[command.command], await self.reached(conn, command), detail, now_ms)
            return True

    async def reached(self, tx: asyncpg.Connection, command: RiskCommand) -> list[tuple[UUID, UUID | None]]:
        """The (bot id, running run or None) of the bots `command` reaches."""
        runs = await running_runs(tx)
        if command.bot_id is None:
            return runs
        return [r for r in runs if r[0] == command.bot_id] or [(command.bot_id, None)]

    async def flatten(self, tx: asyncpg.Connection, command: RiskCommand, now_ms: int) -> Flattened:
        reason = f"flatten {command.command_id}: {command.reason}"
        cancelled = await self.trader.cancel_open(tx, command.bot_id, reason, now_ms)
        closing = []
        for position in await self.positions(tx, command.bot_id):
            if position.qty == 0:
                continue
            request = OrderIntent(  # the flatten's closing order, on an intent's terms
                intent_id=command.command_id,
                bot_id=position.bot_id,
                symbol=position.symbol,
                market=position.market,
                side=Side.SELL if position.qty > 0 else Side.BUY,
                order_type=OrderType.MARKET,
                qty=abs(position.qty),
                created_ms=now_ms,
                valid_until_ms=now_ms,
                reason=reason,
            )
            order = await self.trader.place(tx, request, now_ms)
            if order.status is OrderStatus.REJECTED:
                log.warning(
                    "flatten %s: %s %s not closed: %s",
                    command.command_id,
                    order.bot_id,
                    order.symbol,
                    order.reason,
                )
            closing.append(order)
        return Flattened(cancelled, closing)

    async def positions(self, tx: asyncpg.Connection, bot_id: UUID | None) -> list[PositionState]:
        """The positions of `bot_id` (None: all) folded from the executor's own fills, each head locked."""
        out = []
        for key in await tx.fetch(POSITION_KEYS, bot_id):
            state = await position_of(tx, self.trader.fills, key["bot_id"], key["symbol"])
            if state is not None:
                out.append(state)
        return out

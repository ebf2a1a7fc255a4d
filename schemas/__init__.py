"""The declarations of every subject and stream of the platform: data, no I/O."""

from __future__ import annotations

from registry.registry import Registry
from schemas import streams
from schemas.intents import INTENTS
from schemas.market import KLINES
from schemas.risk import RISK_COMMANDS, RISK_EVENTS, RISK_REQUESTS
from schemas.trading import FILLS, ORDERS

REGISTRY = Registry(
    subjects=(KLINES, INTENTS, RISK_COMMANDS, RISK_EVENTS, RISK_REQUESTS, ORDERS, FILLS),
    streams=streams.ALL,
    bus=streams.BUS,
    history=streams.HISTORY,
    dead_letters=streams.DLQ,
)

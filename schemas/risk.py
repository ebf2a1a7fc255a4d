"""Risk: circuit-breaker events and the commands they cause."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from registry.event import Event
from registry.subject import ConsumerSpec, Service, Subject, Tier
from registry.tokens import enum_param
from schemas.common import TimestampMs, Version


class Breaker(StrEnum):
    """The circuit breakers of seed 003, plus `manual` for operator actions on the latch."""

    DRAWDOWN = "drawdown"
    CONNECTIVITY = "connectivity"
    VPIN = "vpin"
    MACRO = "macro"
    CORRELATION = "correlation"
    MANUAL = "manual"


class LatchAction(StrEnum):
    TRIP = "trip"
    RESUME = "resume"


class CommandKind(StrEnum):
    FLATTEN = "flatten"
    PAUSE = "pause"
    RESUME = "resume"


class BreakerEvent(Event, version=1):
    """A change of the risk halt latch: a breaker trip, or an explicit operator resume."""

    latch_id: str = "global"
    version: Version
    breaker: Breaker
    action: LatchAction
    value: float | None = None
    threshold: float | None = None
    bot_id: UUID | None = None
    message: str = ""
    ts_ms: TimestampMs


class RiskCommand(Event, version=1):
    """A command to the executor: flatten every position, pause new orders, or resume."""

    command_id: UUID
    command: CommandKind
    bot_id: UUID | None = None
    reason: str
    issued_ms: TimestampMs


BREAKER = enum_param("breaker", tuple(b.value for b in Breaker), "Lowercase breaker name")

RISK_EVENTS = Subject(
    "risk.events.{breaker}",
    BreakerEvent,
    producer=Service.RISK,
    params=(BREAKER,),
    consumers=(ConsumerSpec(Service.MANAGER, "manager-risk"),),
    tier=Tier.AT_LEAST_ONCE,
    summary="Breaker trips and latch resumes (the halt latch's history).",
)

RISK_COMMANDS = Subject(
    "risk.commands",
    RiskCommand,
    producer=Service.RISK,
    params=(),
    consumers=(ConsumerSpec(Service.EXECUTOR, "executor-risk"),),
    tier=Tier.AT_LEAST_ONCE,
    summary="Flatten and pause commands from the circuit breakers.",
)

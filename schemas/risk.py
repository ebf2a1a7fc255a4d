"""Risk: circuit-breaker events and the commands they cause."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import ConfigDict, Field

from registry.event import Event
from registry.subject import ConsumerSpec, MigrationWindow, Service, Subject, Tier, Upcaster
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


class OperatorAction(StrEnum):
    RESUME = "resume"
    FLATTEN = "flatten"
    PAUSE = "pause"


OperatorActionV1 = StrEnum("OperatorAction", {"RESUME": "resume", "FLATTEN": "flatten"})  # type: ignore[misc]
"""The actions of OperatorRequest v1 (no pause), under the name its locked schema has."""


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

    EXAMPLES = (
        {
            "version": 2,
            "breaker": "drawdown",
            "action": "trip",
            "value": 0.12,
            "threshold": 0.1,
            "ts_ms": 1732000000000,
        },
    )


class RiskCommand(Event, version=1):
    """A command to the executor: flatten every position, pause new orders, or resume."""

    command_id: UUID
    command: CommandKind
    bot_id: UUID | None = None
    reason: str
    issued_ms: TimestampMs

    EXAMPLES = (
        {
            "command_id": "01935f0e-9000-7000-8000-000000000004",
            "command": "flatten",
            "reason": "drawdown breaker tripped",
            "issued_ms": 1732000000000,
        },
    )


class OperatorRequestV1(Event, version=1, name="OperatorRequest"):
    """An operator's request to the risk service, accepted (and audited) by the manager API: resume the
    halt latch, or flatten every position (which halts the latch as a manual trip)."""

    model_config = ConfigDict(title="OperatorRequest")  # its locked schema's title

    request_id: UUID
    action: OperatorActionV1
    actor: str
    reason: str
    ts_ms: TimestampMs
    latch_version: int | None = Field(
        default=None,
        description="For a resume: the latch version the operator saw halted; refused once it has moved.",
    )

    EXAMPLES = (
        {
            "request_id": "01935f0e-9000-7000-8000-000000000005",
            "action": "resume",
            "actor": "ops",
            "reason": "drawdown reviewed",
            "ts_ms": 1732000000000,
            "latch_version": 2,
        },
    )


class OperatorRequest(Event, version=2):
    """An operator's request to the risk service, accepted (and audited) by the manager API: resume the
    halt latch; pause every bot (which halts the latch as a manual trip and keeps the positions); or
    flatten every position (a manual trip that pauses, then closes every position). Version 2 adds pause."""

    request_id: UUID
    action: OperatorAction
    actor: str
    reason: str
    ts_ms: TimestampMs
    latch_version: int | None = Field(
        default=None,
        description="For a resume: the latch version the operator saw halted; refused once it has moved.",
    )

    EXAMPLES = (
        {
            "request_id": "01935f0e-9000-7000-8000-000000000005",
            "action": "resume",
            "actor": "ops",
            "reason": "drawdown reviewed",
            "ts_ms": 1732000000000,
            "latch_version": 2,
        },
        {
            "request_id": "01935f0e-9000-7000-8000-000000000006",
            "action": "pause",
            "actor": "ops",
            "reason": "exchange maintenance in ten minutes",
            "ts_ms": 1732000000000,
        },
    )


def _request_v2(old: Event) -> OperatorRequest:
    """v1 -> v2: the same request (v1's actions are all v2's)."""
    assert isinstance(old, OperatorRequestV1)
    fields = old.model_dump(exclude={"schema_version", "action"})
    return OperatorRequest(action=OperatorAction(old.action.value), **fields)


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

ACTION = enum_param("action", tuple(a.value for a in OperatorAction), "Lowercase operator action")

RISK_REQUESTS = Subject(
    "risk.requests.{action}",
    OperatorRequest,
    producer=Service.MANAGER,
    params=(ACTION,),
    consumers=(
        ConsumerSpec(Service.RISK, "risk-requests", description="Operator resume, pause and flatten."),
    ),
    tier=Tier.AT_LEAST_ONCE,
    older=(OperatorRequestV1,),
    upcasters=(Upcaster(1, _request_v2),),
    windows=(
        MigrationWindow(1, 2, date(2027, 6, 30), "pause added; a manager of before it sends v1 until then"),
    ),
    summary="Operator requests from the manager API for the risk service to carry out.",
)

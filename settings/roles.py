"""The platform's PostgreSQL role names: one per service, plus the drain, the projector, the lab reader and
the drift reader.

A leaf module (no imports of the project's own): runtime code logs in as these, migrations grant to them.
"""

from __future__ import annotations

DATA_WRITER = "gordon_data_writer"
EXECUTOR = "gordon_executor"
RISK = "gordon_risk"
MANAGER = "gordon_manager"
BOT = "gordon_bot"
LAB_READER = "gordon_lab_reader"
DRIFT_READER = "gordon_drift_reader"
"""SELECT only, on every table and view of every schema: for tooling that checks drift (schema, data)."""
DRAIN = "gordon_drain"
PROJECTOR = "gordon_projector"

PRODUCER_ROLES: tuple[str, ...] = (DATA_WRITER, EXECUTOR, RISK, BOT, MANAGER)
"""Roles of services that write events into `bus.outbox`."""

PRODUCER_ROLE_OF: dict[str, str] = {
    "data": DATA_WRITER,
    "bot": BOT,
    "executor": EXECUTOR,
    "risk": RISK,
    "manager": MANAGER,
}
"""The role each service (a `producer` value of `bus.outbox`, a `registry.subject.Service`) logs in as."""

RUNTIME_READER_ROLES: tuple[str, ...] = (EXECUTOR, RISK, MANAGER, BOT)
"""Runtime services that read market data through the named views only."""

ALL_ROLES: tuple[str, ...] = (
    DATA_WRITER,
    EXECUTOR,
    RISK,
    MANAGER,
    BOT,
    LAB_READER,
    DRIFT_READER,
    DRAIN,
    PROJECTOR,
)

SEARCH_PATH = "trading, market_data, public"

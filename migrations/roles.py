"""Database roles of the platform and idempotent SQL to provision them.

Roles are cluster-wide while grants live in each database: a revision creates a role only when it is
missing (another database of the cluster may have made it) and never drops one.
"""

from __future__ import annotations

DATA_WRITER = "gordon_data_writer"
EXECUTOR = "gordon_executor"
RISK = "gordon_risk"
MANAGER = "gordon_manager"
BOT = "gordon_bot"
LAB_READER = "gordon_lab_reader"
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
    DRAIN,
    PROJECTOR,
)

SEARCH_PATH = "trading, market_data, public"


def ensure_role_sql(role: str) -> str:
    """SQL that creates `role` with LOGIN and no password, unless it exists (also under a race)."""
    return f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE {role} LOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- a concurrent migration of another database created it first
END
$$"""


def search_path_sql(role: str, search_path: str = SEARCH_PATH) -> str:
    """SQL that sets the role's cluster-wide search_path, skipping the write when already set."""
    setting = "search_path=" + search_path
    return f"""
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_catalog.pg_db_role_setting s
        JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
        WHERE r.rolname = '{role}' AND s.setdatabase = 0
          AND '{setting}' = ANY (s.setconfig)
    ) THEN
        ALTER ROLE {role} SET search_path = {search_path};
    END IF;
END
$$"""

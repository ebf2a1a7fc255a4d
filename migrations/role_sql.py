"""Idempotent SQL that provisions the platform's roles (named in `settings.roles`).

Roles are cluster-wide while grants live in each database: a revision creates a role only when it is
missing (another database of the cluster may have made it) and never drops one.
"""

from __future__ import annotations

from settings.roles import SEARCH_PATH


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

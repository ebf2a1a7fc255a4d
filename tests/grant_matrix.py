"""What every grant matrix test shares: a case per role and operation, running an operation as a role
in a rolled-back transaction, and the list of cases whose outcome differs from the expected one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import asyncpg

from settings import roles


@dataclass(frozen=True)
class Case:
    role: str
    operation: str
    allowed: bool

    @property
    def id(self) -> str:
        verdict = "may" if self.allowed else "may not"
        return f"{self.role} {verdict} {self.operation}"


def cases(allowed: Mapping[str, set[str]], operations: Mapping[str, str]) -> list[Case]:
    """One case per role of the platform and operation: allowed when the role is in its set."""
    return [Case(role, op, role in allowed[op]) for role in roles.ALL_ROLES for op in operations]


async def execute_all(dsn: str, statements: Iterable[str]) -> None:
    """Run `statements` as the database owner (the rows a matrix's operations touch)."""
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def attempt(conn: asyncpg.Connection, sql: str) -> None:
    """Run `sql` in a transaction that is always rolled back."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(sql)
    finally:
        await transaction.rollback()


async def mismatches(dsn: str, role: str, matrix: Iterable[Case], operations: Mapping[str, str]) -> list[str]:
    """Connect as `role` and try each of its cases: a line for each outcome other than expected."""
    conn = await asyncpg.connect(dsn)
    found: list[str] = []
    try:
        assert await conn.fetchval("SELECT current_user") == role
        for case in (case for case in matrix if case.role == role):
            try:
                await attempt(conn, operations[case.operation])
            except asyncpg.InsufficientPrivilegeError:
                if case.allowed:
                    found.append(f"denied, expected allowed: {case.id}")
            except Exception as error:
                found.append(f"{type(error).__name__} ({error}): {case.id}")
            else:
                if not case.allowed:
                    found.append(f"allowed, expected InsufficientPrivilegeError: {case.id}")
    finally:
        await conn.close()
    return found

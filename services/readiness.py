"""Readiness: named checks run concurrently, each bounded in time; a service is ready when all pass.

A check is an async callable returning one line of detail, or raising `Failed` with the reason; any
other exception or a timeout is a failure too (never a 500). `/healthz` answers 200 or 503 with every
check's result, and `/metrics` carries the same verdict as `gordon_service_ready` and
`gordon_readiness_check{check}`, so an alert needs no second probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from consumers.metrics import registry_of

Check = Callable[[], Awaitable[str]]

DEFAULT_TIMEOUT_S = 2.0


class Failed(Exception):
    """A check did not pass; str() says why."""


@dataclass(frozen=True)
class Result:
    ok: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    """Every check's result, by name; `failed` names those that did not pass."""

    results: dict[str, Result]

    @property
    def failed(self) -> list[str]:
        return [name for name, r in self.results.items() if not r.ok]

    @property
    def ready(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        """The `/healthz` body: status, every check, and the names of the failed ones."""
        return {
            "status": "ok" if self.ready else "failing",
            "checks": {n: {"ok": r.ok, "detail": r.detail} for n, r in self.results.items()},
            "failed": self.failed,
        }


async def _run(check: Check, timeout_s: float, explain: Callable[[], str]) -> Result:
    try:
        async with asyncio.timeout(timeout_s):
            return Result(True, await check())
    except Failed as failed:
        return Result(False, str(failed))
    except TimeoutError:
        return Result(False, f"no answer within {timeout_s:g} s{explain()}")
    except Exception as exc:  # a check's failure is its result
        return Result(False, f"{type(exc).__name__}: {exc}".strip())


async def evaluate(
    checks: Mapping[str, Check],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    explain_timeout: Callable[[], str] = lambda: "",
) -> Verdict:
    """Run every check at once; `explain_timeout` may add what the connection last reported."""
    results = await asyncio.gather(*(_run(c, timeout_s, explain_timeout) for c in checks.values()))
    return Verdict(dict(zip(checks, results, strict=True)))


@dataclass
class ReadinessGauges:
    """`gordon_service_ready` and `gordon_readiness_check{check}` in one service's registry."""

    registry: CollectorRegistry

    def __post_init__(self) -> None:
        self.ready = Gauge(
            "gordon_service_ready",
            "1 when every readiness check of the service passes (its /healthz answers 200).",
            registry=self.registry,
        )
        self.check = Gauge(
            "gordon_readiness_check",
            "1 when the named readiness check passes.",
            ["check"],
            registry=self.registry,
        )

    def record(self, verdict: Verdict) -> None:
        self.ready.set(1 if verdict.ready else 0)
        for name, result in verdict.results.items():
            self.check.labels(name).set(1 if result.ok else 0)


@cache
def gauges_of(service: str) -> ReadinessGauges:
    """The readiness gauges of `service`, created once per process in its registry."""
    return ReadinessGauges(registry_of(service))

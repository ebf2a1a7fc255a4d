"""What `/healthz` demands: the durables that must exist and how far a projection may lag."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.subject import Service
from schemas import REGISTRY


def fixed_durables(services: tuple[Service, ...] | None = None) -> tuple[str, ...]:
    """Durable names of the registry that take no instance parameter (per-bot durables are not
    knowable up front), of `services` (default: all), sorted."""
    names = set()
    for subject in REGISTRY:
        for spec in subject.consumers:
            if (services is None or spec.service in services) and "{" not in spec.durable:
                names.add(spec.durable)
    return tuple(sorted(names))


@dataclass(frozen=True)
class HealthPolicy:
    """`durables`: durable consumers of gordon-bus that must exist (default: the manager's own; another
    service's durable is not the manager's to read under the NATS permissions); `max_projection_lag`:
    events of a projection's subject it may have left unconsumed; `timeout_s`: the budget of each check."""

    durables: tuple[str, ...] = field(default_factory=lambda: fixed_durables((Service.MANAGER,)))
    max_projection_lag: int = 1000
    timeout_s: float = 2.0

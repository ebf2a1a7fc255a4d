"""A seeded scenario: stretches of toxic (one-sided) order flow and macro shocks, placed by time.

Tests and demos use it to make VPIN spike and DXY/VIX jump at known simulated times, deterministically;
the default scenario is empty (a calm market).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ToxicFlow:
    """From `start_ms` (inclusive) to `end_ms` (exclusive), `buy_share` of every aggregated trade's
    volume of `symbol` (None: every symbol) is taker buying: VPIN climbs toward |2 * buy_share - 1|."""

    start_ms: int
    end_ms: int
    buy_share: float = 0.98
    symbol: str | None = None

    def __post_init__(self) -> None:
        if not self.end_ms > self.start_ms:
            raise ValueError("a toxic flow ends after it starts")
        if not 0.0 <= self.buy_share <= 1.0:
            raise ValueError(f"buy_share is a fraction, got {self.buy_share}")


@dataclass(frozen=True)
class MacroShock:
    """At the macro slot `at_ms` (an hour boundary) the series jump: DXY by `dxy_pct` percent, VIX by
    `vix_points` points; the walks continue from the jumped values."""

    at_ms: int
    dxy_pct: float = 2.0
    vix_points: float = 15.0


@dataclass(frozen=True)
class Scenario:
    """Everything scripted into the otherwise random market."""

    toxic_flows: tuple[ToxicFlow, ...] = field(default_factory=tuple)
    macro_shocks: tuple[MacroShock, ...] = field(default_factory=tuple)

    def buy_share(self, symbol: str, ts_ms: int) -> float | None:
        """The forced taker-buy share at `ts_ms` for `symbol`, or None when the flow is natural."""
        for flow in self.toxic_flows:
            if flow.start_ms <= ts_ms < flow.end_ms and flow.symbol in (None, symbol):
                return flow.buy_share
        return None

    def shock_at(self, ts_ms: int) -> MacroShock | None:
        """The macro shock scripted at exactly `ts_ms`, if any."""
        return next((s for s in self.macro_shocks if s.at_ms == ts_ms), None)


CALM = Scenario()

"""Every projection of the platform, by name."""

from __future__ import annotations

from typing import Any

from projections.base import Projection
from projections.equity import EquityProjection
from projections.fills import FillsProjection
from projections.latch import LatchProjection
from projections.orders import OrdersProjection
from projections.performance import PerformanceProjection
from projections.positions import PositionsProjection
from projections.roundtrips import RoundtripsProjection

PROJECTIONS: dict[str, Projection[Any, Any]] = {
    p.name: p
    for p in (
        OrdersProjection(),
        PositionsProjection(),
        FillsProjection(),
        LatchProjection(),
        RoundtripsProjection(),
        EquityProjection(),
        PerformanceProjection(),
    )
}

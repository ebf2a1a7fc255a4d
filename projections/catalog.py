"""Every projection of the platform, by name."""

from __future__ import annotations

from typing import Any

from projections.base import Projection
from projections.fills import FillsProjection
from projections.latch import LatchProjection
from projections.orders import OrdersProjection
from projections.positions import PositionsProjection

PROJECTIONS: dict[str, Projection[Any, Any]] = {
    p.name: p for p in (OrdersProjection(), PositionsProjection(), FillsProjection(), LatchProjection())
}

"""The risk service: five circuit breakers over fills, klines and market-data views, and the halt latch."""

from services.runtime import lazy_app

__getattr__ = lazy_app(__name__, "services.risk.service", "build")

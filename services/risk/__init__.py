"""The risk service: circuit breakers over fills and klines, and the halt latch they trip."""

from services.runtime import lazy_app

__getattr__ = lazy_app(__name__, "services.risk.service", "build")

"""The risk service: circuit breakers over fills and klines, and the halt latch they trip."""

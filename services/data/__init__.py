"""The data service: a bundled, seeded market feed ingested into `market_data` and published as klines.

There is no network here, so a random walk stands in for Binance; everything downstream of it (the
tables, the outbox, the stream) is real.
"""

from services.runtime import lazy_app

__getattr__ = lazy_app(__name__, "services.data.service", "build_from_env")

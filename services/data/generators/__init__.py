"""Seeded generators of the market data beyond spot klines, one module per source.

Each is pure: a row follows from the seed, its key, its time, the previous row and the kline it is
generated at, so an uninterrupted feed and a restarted one (resuming from the stored rows) agree.
Writing them is `services.data.extras`' job; the perpetual candles (`perp`) are ingested by
`services.data.perp`.
"""

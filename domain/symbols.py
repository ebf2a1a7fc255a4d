"""Split a Binance symbol into base and quote assets by the longest known quote suffix."""

from __future__ import annotations

QUOTE_ASSETS: tuple[str, ...] = ("USDT", "USDC", "FDUSD", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY")
"""The quote assets we trade against; a symbol's quote is the longest of these it ends with."""


class UnknownSymbol(ValueError):
    """A symbol that ends in none of `QUOTE_ASSETS` (or is only a quote asset)."""


def split_symbol(symbol: str) -> tuple[str, str]:
    """`BTCUSDT` -> (`BTC`, `USDT`); `ETHBTC` -> (`ETH`, `BTC`)."""
    for quote in sorted(QUOTE_ASSETS, key=len, reverse=True):
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    raise UnknownSymbol(f"symbol {symbol!r}: no base before a known quote asset ({', '.join(QUOTE_ASSETS)})")

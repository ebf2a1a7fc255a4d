"""Golden position sequences computed by hand, fee rules, rounding, symbols and version discipline."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.positions import BadFill, PositionState, apply_fill
from domain.symbols import UnknownSymbol, split_symbol
from domain.versions import StaleVersion, VersionGap
from schemas.common import Market, Side
from schemas.trading import Fill
from tests.trading_domain.builders import BOT, fill

BUY, SELL = Side.BUY, Side.SELL


def fold(*fills: Fill) -> PositionState:
    state: PositionState | None = None
    for f in fills:
        state = apply_fill(state, f)
    assert state is not None
    return state


def numbers(state: PositionState) -> tuple[str, str, str, str]:
    """(qty, avg_entry_price, realized_pnl, fees) as plain strings, for hand-written expectations."""
    return (
        f"{state.qty:f}",
        f"{state.avg_entry_price:f}",
        f"{state.realized_pnl:f}",
        f"{state.fees:f}",
    )


def d8(text: str) -> str:
    """`text` written with the eight decimals the reducer keeps."""
    return f"{Decimal(text).quantize(Decimal('1e-8')):f}"


GOLDEN: list[tuple[str, list[tuple[Side, str, float, str, str]], tuple[str, str, str, str]]] = [
    # name, fills (side, qty, price, fee, fee asset), expected (qty, avg, realized, fees)
    ("open long, quote fee", [(BUY, "1", 100.0, "0.1", "USDT")], ("1", "100", "0", "0.1")),
    # avg = (1*100 + 3*120) / 4 = 460 / 4 = 115
    (
        "add to long re-averages",
        [(BUY, "1", 100.0, "0", "USDT"), (BUY, "3", 120.0, "0", "USDT")],
        ("4", "115", "0", "0"),
    ),
    # realized = (110 - 100) * 0.5 = 5; entry unchanged
    (
        "partial reduce",
        [(BUY, "2", 100.0, "0", "USDT"), (SELL, "0.5", 110.0, "0", "USDT")],
        ("1.5", "100", "5", "0"),
    ),
    # realized = (90 - 100) * 2 = -20; flat means qty 0 and avg 0
    (
        "close at a loss",
        [(BUY, "2", 100.0, "0", "USDT"), (SELL, "2", 90.0, "0", "USDT")],
        ("0", "0", "-20", "0"),
    ),
    # closes 1 at 110: realized 10; the other 2 open a short at 110
    (
        "flip long to short",
        [(BUY, "1", 100.0, "0", "USDT"), (SELL, "3", 110.0, "0", "USDT")],
        ("-2", "110", "10", "0"),
    ),
    # short 2 at 50, buy 5 at 40: closes 2, realized (40 - 50) * 2 * -1 = 20; long 3 at 40
    (
        "flip short to long",
        [(SELL, "2", 50.0, "0", "USDT"), (BUY, "5", 40.0, "0", "USDT")],
        ("3", "40", "20", "0"),
    ),
    # short avg (200 + 210) / 2 = 205; buy 0.5 at 190: realized (190 - 205) * 0.5 * -1 = 7.5
    (
        "add to short then cover part",
        [(SELL, "1", 200.0, "0", "USDT"), (SELL, "1", 210.0, "0", "USDT"), (BUY, "0.5", 190.0, "0", "USDT")],
        ("-1.5", "205", "7.5", "0"),
    ),
    # buy 1 BTC paying 0.001 BTC: 0.999 received at 100; fees 0.001 * 100 = 0.1
    ("base fee on a buy", [(BUY, "1", 100.0, "0.001", "BTC")], ("0.999", "100", "0", "0.1")),
    # sell 0.5 paying 0.0005 BTC: 0.5005 leaves the position at 120;
    # realized (120 - 100) * 0.5005 = 10.01; qty 1 - 0.5005 = 0.4995; fees 0.0005 * 120 = 0.06
    (
        "base fee on a sell",
        [(BUY, "1", 100.0, "0", "USDT"), (SELL, "0.5", 120.0, "0.0005", "BTC")],
        ("0.4995", "100", "10.01", "0.06"),
    ),
    # two partial fills: avg (0.3 * 100 + 0.7 * 101) / 1 = (30 + 70.7) / 1 = 100.7; fees 0.03 + 0.0707
    # then sell 1 at 102: realized (102 - 100.7) * 1 = 1.3; fees + 0.102 = 0.2027
    (
        "partial fills, quote fees, round trip",
        [
            (BUY, "0.3", 100.0, "0.03", "USDT"),
            (BUY, "0.7", 101.0, "0.0707", "USDT"),
            (SELL, "1", 102.0, "0.102", "USDT"),
        ],
        ("0", "0", "1.3", "0.2027"),
    ),
    # avg (100 + 2 * 100.01) / 3 = 300.02 / 3 = 100.0066666... -> 100.00666667 (1e-8)
    (
        "average rounds to 1e-8",
        [(BUY, "1", 100.0, "0", "USDT"), (BUY, "2", 100.01, "0", "USDT")],
        ("3", "100.00666667", "0", "0"),
    ),
    # avg (1.00000000 + 1.00000001) / 2 = 1.000000005: half to even gives 1.00000000, half up ...01
    (
        "half to even",
        [(BUY, "1", 1.0, "0", "USDT"), (BUY, "1", 1.00000001, "0", "USDT")],
        ("2", "1", "0", "0"),
    ),
    # realized then re-open: long 1 at 100, sell 1 at 150 (+50), buy 2 at 80 -> long 2 at 80, realized 50
    (
        "reopen after flat",
        [(BUY, "1", 100.0, "0", "USDT"), (SELL, "1", 150.0, "0", "USDT"), (BUY, "2", 80.0, "0", "USDT")],
        ("2", "80", "50", "0"),
    ),
    # long 1 at 100 then sell 2.5 at 90 paying 0.25 USDT: realized -10, short 1.5 at 90
    # then buy 1.5 at 95 paying 0.1425 USDT: realized (95 - 90) * 1.5 * -1 = -7.5 -> total -17.5
    (
        "flip then close the short at a loss",
        [
            (BUY, "1", 100.0, "0", "USDT"),
            (SELL, "2.5", 90.0, "0.25", "USDT"),
            (BUY, "1.5", 95.0, "0.1425", "USDT"),
        ],
        ("0", "0", "-17.5", "0.3925"),
    ),
]


@pytest.mark.parametrize(("fills", "expected"), [(f, e) for _, f, e in GOLDEN], ids=[n for n, _, _ in GOLDEN])
def test_golden_sequence(
    fills: list[tuple[Side, str, float, str, str]], expected: tuple[str, str, str, str]
) -> None:
    built = [
        fill(i, side, qty, price, fee, asset) for i, (side, qty, price, fee, asset) in enumerate(fills, 1)
    ]
    state = fold(*built)
    assert numbers(state) == tuple(d8(x) for x in expected)
    assert (state.version, state.updated_ms) == (len(fills), built[-1].ts_ms)
    assert (state.bot_id, state.symbol, state.market) == (BOT, "BTCUSDT", Market.SPOT)


def test_fee_in_quote_of_a_btc_quoted_symbol() -> None:
    # ETHBTC: buy 2 ETH at 0.05 BTC paying 0.0001 BTC (the quote asset here)
    state = fold(fill(1, BUY, "2", 0.05, "0.0001", "BTC", symbol="ETHBTC"))
    assert numbers(state) == (d8("2"), d8("0.05"), d8("0"), d8("0.0001"))


def test_a_fee_in_another_asset_is_refused_unless_zero() -> None:
    with pytest.raises(BadFill, match=r"fee asset 'BNB' is neither BTC nor USDT of BTCUSDT"):
        fold(fill(1, BUY, "1", 100.0, "0.0001", "BNB"))
    assert fold(fill(1, BUY, "1", 100.0, "0", "BNB")).fees == 0


def test_a_base_fee_as_large_as_a_buy_is_refused() -> None:
    with pytest.raises(BadFill, match="a base fee of 1 leaves nothing of qty 1"):
        fold(fill(1, BUY, "1", 100.0, "1", "BTC"))


def test_price_float_becomes_decimal_through_str() -> None:
    # Decimal(0.1) would be 0.1000000000000000055...; through str() it is exactly 0.1
    state = fold(fill(1, BUY, "3", 0.1), fill(2, SELL, "3", 0.3))
    assert numbers(state) == (d8("0"), d8("0"), d8("0.6"), d8("0"))


def test_stale_and_gapped_fill_versions() -> None:
    state = fold(fill(1, BUY, "1", 100.0), fill(2, BUY, "1", 100.0))
    with pytest.raises(StaleVersion) as stale:
        apply_fill(state, fill(2, BUY, "1", 100.0))
    assert (stale.value.expected, stale.value.actual) == (3, 2)
    with pytest.raises(VersionGap) as gap:
        apply_fill(state, fill(4, BUY, "1", 100.0))
    assert (gap.value.expected, gap.value.actual) == (3, 4)
    assert str(gap.value) == f"position {BOT}/BTCUSDT: version 4 is ahead of a gap (expected 3)"
    with pytest.raises(VersionGap):
        apply_fill(None, fill(2, BUY, "1", 100.0))


def test_a_fill_of_another_symbol_or_market_is_refused() -> None:
    state = fold(fill(1, BUY, "1", 100.0))
    with pytest.raises(BadFill, match="is for"):
        apply_fill(state, fill(2, BUY, "1", 100.0, symbol="ETHUSDT"))
    with pytest.raises(BadFill, match="is perp, the position is spot"):
        apply_fill(state, fill(2, BUY, "1", 100.0, market=Market.PERP))


@pytest.mark.parametrize(
    ("symbol", "split"),
    [
        ("BTCUSDT", ("BTC", "USDT")),
        ("ETHBTC", ("ETH", "BTC")),
        ("BTCFDUSD", ("BTC", "FDUSD")),
        ("BNBETH", ("BNB", "ETH")),
        ("USDTTRY", ("USDT", "TRY")),
        ("BTCEUR", ("BTC", "EUR")),
        ("ETHBNB", ("ETH", "BNB")),
        ("SOLBUSD", ("SOL", "BUSD")),
        ("SOLUSDC", ("SOL", "USDC")),
    ],
)
def test_split_symbol(symbol: str, split: tuple[str, str]) -> None:
    assert split_symbol(symbol) == split


@pytest.mark.parametrize("symbol", ["BTCXYZ", "USDT"])
def test_unknown_symbols(symbol: str) -> None:
    with pytest.raises(UnknownSymbol, match=f"symbol '{symbol}': no base before a known quote asset"):
        split_symbol(symbol)

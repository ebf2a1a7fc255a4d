"""Subject templates and tokens: render, parse, wildcard, and the values a token refuses."""

from __future__ import annotations

from uuid import UUID

import pytest

from producers.channels import FILLS, INTENTS, KLINES, RISK_EVENTS
from registry.registry import UnknownSubjectError
from registry.streams import covers, overlaps
from registry.subject import Template
from registry.tokens import SubjectTokenError
from schemas import REGISTRY
from schemas.common import bot_token
from schemas.market import KLINES as KLINES_DECL

BOT_TOKEN = bot_token(UUID("01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60"))


def test_template_render_parse_wildcard() -> None:
    t = Template("market.klines.binance.{market}.{symbol_lc}.{tf}")
    assert t.names == ("market", "symbol_lc", "tf")
    subject = t.render({"market": "spot", "symbol_lc": "btcusdt", "tf": "1m"})
    assert subject == "market.klines.binance.spot.btcusdt.1m"
    assert t.parse(subject) == {"market": "spot", "symbol_lc": "btcusdt", "tf": "1m"}
    assert t.parse("market.klines.binance.spot.btcusdt") is None
    assert t.wildcard() == "market.klines.binance.*.*.*"
    assert t.wildcard({"market": "perp"}) == "market.klines.binance.perp.*.*"


def test_channels_build_checked_addresses() -> None:
    address = FILLS(bot_id=BOT_TOKEN)
    assert address.concrete == f"trading.fills.{BOT_TOKEN}"
    assert KLINES(market="perp", symbol_lc="ethusdt", tf="5m").concrete == (
        "market.klines.binance.perp.ethusdt.5m"
    )
    assert INTENTS().concrete == "intents.executor"
    assert RISK_EVENTS(breaker="drawdown").concrete == "risk.events.drawdown"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty"),
        ("btc.usdt", "'.' is not allowed"),
        ("btc*", "'*' is not allowed"),
        ("btc>", "'>' is not allowed"),
        ("btc usdt", "' ' is not allowed"),
        ("BTCUSDT", "does not match"),
    ],
)
def test_bad_token_values_are_refused_with_the_parameter_named(value: str, fragment: str) -> None:
    with pytest.raises(SubjectTokenError, match="symbol_lc") as info:
        KLINES(market="spot", symbol_lc=value, tf="1m")
    assert fragment in str(info.value)


def test_enum_parameters_refuse_unknown_values() -> None:
    with pytest.raises(SubjectTokenError, match="market='futures'"):
        KLINES(market="futures", symbol_lc="btcusdt", tf="1m")
    with pytest.raises(SubjectTokenError, match="tf='2m'"):
        KLINES(market="spot", symbol_lc="btcusdt", tf="2m")
    with pytest.raises(SubjectTokenError, match="bot_id"):
        FILLS(bot_id="01935f0e-8c2a-7b3d-9f10-2b6c1d4e5f60")  # hyphens: must be underscores


def test_render_refuses_missing_and_extra_parameters() -> None:
    with pytest.raises(SubjectTokenError, match="missing parameters"):
        KLINES_DECL.render({"market": "spot", "symbol_lc": "btcusdt"})
    with pytest.raises(SubjectTokenError, match="unknown parameters"):
        KLINES_DECL.render({"market": "spot", "symbol_lc": "btcusdt", "tf": "1m", "x": "y"})


def test_registry_matches_concrete_subjects() -> None:
    assert REGISTRY.match(f"trading.fills.{BOT_TOKEN}").template_text == "trading.fills.{bot_id}"
    assert REGISTRY.match("risk.commands").template_text == "risk.commands"
    for bad in ("trading.fills.NOPE", "risk.events.unknown", "market.klines.binance.spot.btcusdt.2m", "x"):
        with pytest.raises(UnknownSubjectError):
            REGISTRY.match(bad)


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("trading.>", "trading.fills.*", True),
        ("trading.>", "trading", False),
        ("risk.*", "risk.events.*", False),
        ("risk.events.*", "risk.events.*", True),
        ("market.klines.>", "market.klines.binance.*.*.*", True),
        ("intents.>", "trading.fills.*", False),
    ],
)
def test_covers(pattern: str, subject: str, expected: bool) -> None:
    assert covers(pattern, subject) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("trading.fills.*", "trading.orders.*", False),
        ("trading.*.x", "trading.fills.*", True),
        ("trading.>", "trading.fills.*", True),
        ("risk.commands", "risk.events.*", False),
        ("a.b", "a.b.c", False),
        ("a.>", "a", False),
    ],
)
def test_overlaps(a: str, b: str, expected: bool) -> None:
    assert overlaps(a, b) is expected
    assert overlaps(b, a) is expected

"""Registry lint: the platform's registry is clean, and each rule catches the mistake it names."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from registry.event import Event
from registry.lint import LINT_RULES, lint
from registry.registry import Registry
from registry.subject import ConsumerSpec, Service, Subject
from registry.tokens import Param
from schemas import REGISTRY, streams
from schemas.common import BOT_ID, BOT_UUID, MARKET, SYMBOL_LC, TF
from schemas.market import KLINES, Kline
from schemas.trading import FILLS, ORDERS


def registry_of(*subjects: Subject[Any]) -> Registry:
    return Registry(subjects, streams.ALL, streams.BUS, streams.HISTORY, streams.DLQ)


def rules(registry: Registry) -> set[str]:
    return {f.rule for f in lint(registry)}


def test_platform_registry_is_clean() -> None:
    assert lint(REGISTRY) == []


def test_every_rule_is_documented() -> None:
    assert all(rule.startswith("L1") and text for rule, text in LINT_RULES.items())


class Other(Event, version=1):
    x: int


def test_l101_template_declared_twice() -> None:
    assert "L101" in rules(registry_of(FILLS, dataclasses.replace(FILLS, consumers=())))


def test_l102_overlapping_producers() -> None:
    kind = Param("kind", "[a-z]+", "any kind", ("fills",))
    rogue = Subject("trading.{kind}.{bot_id}", Other, producer=Service.BOT, params=(kind, BOT_ID))
    found = lint(registry_of(FILLS, ORDERS, rogue))
    assert {f.rule for f in found} == {"L102"}
    assert any("executor vs bot" in f.message for f in found)


def test_l103_subject_outside_the_stream() -> None:
    assert rules(registry_of(Subject("audit.things", Other, producer=Service.RISK, params=()))) == {"L103"}


def test_l104_durable_convention() -> None:
    bad = dataclasses.replace(FILLS, consumers=(ConsumerSpec(Service.MANAGER, "fills-manager"),))
    assert rules(registry_of(bad)) == {"L104"}
    spaced = dataclasses.replace(FILLS, consumers=(ConsumerSpec(Service.MANAGER, "manager fills"),))
    assert rules(registry_of(spaced)) == {"L104"}
    undeclared = dataclasses.replace(FILLS, consumers=(ConsumerSpec(Service.MANAGER, "manager-{who}"),))
    assert rules(registry_of(undeclared)) == {"L104"}


def test_l105_uppercase_tokens_and_parameters() -> None:
    upper = Subject("trading.Fills.{bot_id}", Other, producer=Service.EXECUTOR, params=(BOT_ID,))
    assert "L105" in rules(registry_of(upper))
    loose = Param("sym", r"[A-Za-z]+", "any case", ("btc",))
    assert "L105" in rules(
        registry_of(Subject("trading.x.{sym}", Other, producer=Service.EXECUTOR, params=(loose,)))
    )


def test_l106_seed_bot_durable_without_market_collides() -> None:
    seed_template = ConsumerSpec(
        Service.BOT,
        "bot-{bot_id}-{symbol_lc}-{tf}-klines",
        binds=("market", "symbol_lc", "tf"),
        instance=(BOT_UUID,),
    )
    found = lint(registry_of(dataclasses.replace(KLINES, consumers=(seed_template,))))
    assert [f.rule for f in found] == ["L106"]
    assert "['market']" in found[0].message


def test_l107_versions_need_upcasters() -> None:
    class KlineV2(Event, version=2, name="Kline"):
        symbol: str

    assert rules(registry_of(dataclasses.replace(KLINES, payload=KlineV2, older=(Kline,)))) == {"L107"}


def test_l108_placeholders_and_parameters_agree() -> None:
    missing = Subject(
        "market.klines.binance.{market}.{symbol_lc}.{tf}", Kline, Service.DATA, (MARKET, SYMBOL_LC)
    )
    assert rules(registry_of(missing)) == {"L108"}
    assert TF.name == "tf"


def test_l109_durable_names_are_unique() -> None:
    dup = dataclasses.replace(ORDERS, consumers=(ConsumerSpec(Service.MANAGER, "manager-fills"),))
    assert rules(registry_of(FILLS, dup)) == {"L109"}


@pytest.mark.parametrize("field", ["first", "const"])
def test_l110_schema_version_first_and_constant(field: str) -> None:
    class Sneaky(Event, version=1):
        x: int

    if field == "first":
        fields = dict(Sneaky.model_fields)
        Sneaky.model_fields.clear()
        Sneaky.model_fields.update({"x": fields["x"], **{k: v for k, v in fields.items() if k != "x"}})
    else:
        Sneaky.VERSION = 2
    subject = Subject("trading.sneaky.{bot_id}", Sneaky, Service.EXECUTOR, (BOT_ID,))
    assert rules(registry_of(subject)) == {"L110"}


def test_stream_of_looks_up_the_capturing_stream() -> None:
    """Every declared subject is captured by the live stream (not by the history stream sourcing it);
    a subject outside every stream is a LookupError, not silently the live stream."""
    assert {REGISTRY.stream_of(subject).name for subject in REGISTRY} == {streams.BUS.name}
    stray = Subject("audit.things", Other, producer=Service.RISK, params=())
    with pytest.raises(LookupError, match=r"audit\.things"):
        registry_of(stray).stream_of(stray)

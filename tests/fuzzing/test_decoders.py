"""Fuzzing every decoder: whatever the bytes, decoding yields the subject's newest event or a DecodeError
with a reason, and a consumer hands the handler a decoded event or dead-letters the message with it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from nats.js import JetStreamContext
from pydantic import Field

from bench.samples import samples
from consumers import metrics
from consumers.core import Attempt, ConsumeCore
from registry import headers as h
from registry.codec import MAX_PAYLOAD_BYTES, Codec, DecodeError, EncodeError
from registry.event import Event
from registry.subject import Service, Subject, Upcaster
from schemas import REGISTRY
from schemas.trading import Fill
from tests.fuzzing.garbage import Raw, dump, hostile, nested
from tests.schema_registry.test_codec import model_strategy


class QuoteV1(Event, version=1, name="Quote"):
    symbol: str
    price: float


class QuoteV2(Event, version=2, name="Quote"):
    symbol: str
    price: float = Field(le=1e9)
    source: str


def _upcast(old: QuoteV1) -> QuoteV2:
    return QuoteV2(event_id=old.event_id, symbol=old.symbol, price=old.price, source="v1")


QUOTES = Subject(
    "test.quotes",
    QuoteV2,
    producer=Service.DATA,
    params=(),
    older=(QuoteV1,),
    upcasters=(Upcaster(1, _upcast),),
)
"""Two versions and an upcaster that fails on some old values (a v1 price over 1e9)."""


@dataclass(frozen=True)
class Case:
    subject: Subject[Any]
    codec: Codec[Any]
    valid: dict[str, Any]

    def __str__(self) -> str:
        return self.subject.template_text


def _example(model: type[Event]) -> Event:
    """The bench sample of `model`, or any valid instance (a subject added since the samples were written)."""
    known = samples().get(model)
    return known if known is not None else find(model_strategy(model), lambda _: True)


def _cases() -> list[Case]:
    cases = [
        Case(s, REGISTRY.codec(s), json.loads(REGISTRY.codec(s).encode(_example(s.payload))))
        for s in REGISTRY
    ]
    old = QuoteV1(symbol="BTCUSDT", price=94_000.5)
    cases.append(Case(QUOTES, Codec(QUOTES), json.loads(old.model_dump_json())))
    return cases


CASES = _cases()
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


def decode_or_reason(case: Case, raw: bytes) -> Event | str:
    """The decoded event (checked to be the newest payload, and publishable again) or the reason."""
    try:
        event = case.codec.decode(raw)
    except DecodeError as exc:
        reason = exc.reason
    else:
        assert type(event) is case.subject.payload
        case.codec.encode(event)  # what decodes can be published again: no NaN, no NUL, no runaway decimal
        return cast(Event, event)
    assert reason.strip(), f"a DecodeError without a reason for {raw[:80]!r}"
    return reason


def test_every_registered_subject_is_fuzzed() -> None:
    assert {c.subject.template_text for c in CASES} >= {s.template_text for s in REGISTRY}


@pytest.mark.parametrize("case", CASES, ids=str)
@FUZZ
@given(data=st.data())
def test_decoding_yields_the_newest_event_or_a_reason(case: Case, data: st.DataObject) -> None:
    decode_or_reason(case, data.draw(hostile(case.valid)))


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * 1_000_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"\xff" * 1000,
        b"\x00",
        b"",
    ],
    ids=["100k-arrays", "1M-open-brackets", "100k-objects", "invalid-utf8", "nul", "empty"],
)
def test_deep_and_broken_input_is_a_reason(case: Case, raw: bytes) -> None:
    assert isinstance(decode_or_reason(case, raw), str)


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize(
    ("name", "token", "reason"),
    [
        ("schema_version", "99", "unsupported schema_version 99"),
        ("schema_version", "1" + "0" * 30, "schema_version"),
        ("event_id", nested(100_000), "recursion limit"),
        ("extra", nested(100_000, "{"), "recursion limit"),
    ],
)
def test_a_bad_field_names_what_is_wrong(case: Case, name: str, token: str, reason: str) -> None:
    body = {**case.valid, name: Raw(token)}
    outcome = decode_or_reason(case, dump(body).encode())
    assert isinstance(outcome, str)
    assert reason in outcome


@pytest.mark.parametrize(
    ("field_name", "value", "reason"),
    [
        ("price", Raw("Infinity"), "finite number"),
        ("price", Raw("NaN"), "finite number"),
        ("qty", "1e999999999", "decimal out of range"),
        ("qty", "1" * 41, "decimal out of range"),
        ("fee", "1e-41", "decimal out of range"),
        ("fee_asset", "US\x00DT", "NUL"),
        ("version", 2**31, "PostgreSQL integer"),
        ("ts_ms", 2**63, "PostgreSQL bigint"),
    ],
)
def test_values_that_would_break_downstream_are_refused(field_name: str, value: Any, reason: str) -> None:
    fills = next(c for c in CASES if c.subject.template_text == "trading.fills.{bot_id}")
    outcome = decode_or_reason(fills, dump({**fills.valid, field_name: value}).encode())
    assert isinstance(outcome, str)
    assert reason in outcome


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "US\x00DT"])
def test_a_string_that_cannot_travel_is_refused_at_encode(text: str) -> None:
    fills = next(c for c in CASES if c.subject.template_text == "trading.fills.{bot_id}")
    event = samples()[Fill].model_copy(update={"fee_asset": text})
    with pytest.raises(EncodeError, match=r"trading\.fills\.x: "):
        fills.codec.encode(event, "trading.fills.x")


def test_a_failing_upcaster_is_a_reason_not_a_crash() -> None:
    quotes = CASES[-1]
    assert isinstance(decode_or_reason(quotes, dump({**quotes.valid, "price": 1e12}).encode()), str)
    decoded = decode_or_reason(quotes, dump(quotes.valid).encode())
    assert isinstance(decoded, QuoteV2)
    assert decoded.source == "v1"


@dataclass
class FakeJs:
    """Records what a dead letter publishes; `_nc.max_payload` as the server announces it."""

    published: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    _nc: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(max_payload=MAX_PAYLOAD_BYTES))

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        assert h.wire_size(payload, headers) <= self._nc.max_payload, "the server would close the connection"
        self.published.append((subject, payload, headers))


@dataclass
class FakeMsg:
    subject: str
    data: bytes
    headers: dict[str, str]
    metadata: Any
    termed: bool = False

    async def term(self) -> None:
        self.termed = True


def receive(case: Case, raw: bytes) -> tuple[Attempt[Any] | None, FakeJs, FakeMsg]:
    """What both consumer surfaces (the shared `ConsumeCore`) do with one message carrying `raw`
    (its first delivery)."""
    js = FakeJs()
    core = ConsumeCore(
        "manager-fuzz", case.codec, 5, (1.0,), lambda: cast(JetStreamContext, js), metrics.of("manager")
    )
    meta = SimpleNamespace(num_delivered=1, stream="gordon-bus", sequence=SimpleNamespace(stream=7))
    msg = FakeMsg("test.subject", raw, {h.MSG_ID: "m-1"}, meta)
    attempt = asyncio.run(core.receive(cast(Any, msg)))
    return attempt, js, msg


@pytest.mark.parametrize("case", CASES, ids=str)
@FUZZ
@given(data=st.data())
def test_a_consumer_hands_over_the_event_or_dead_letters_it_with_the_reason(
    case: Case, data: st.DataObject
) -> None:
    raw = data.draw(hostile(case.valid))
    outcome = decode_or_reason(case, raw)
    attempt, js, msg = receive(case, raw)
    if isinstance(outcome, str):
        assert attempt is None
        assert msg.termed
        [(subject, _, headers)] = js.published
        assert subject == "dlq.manager-fuzz"
        assert headers[h.DLQ_REASON].startswith("decode: ")
        assert headers[h.DLQ_SEQUENCE] == "7"
    else:
        assert attempt is not None
        assert attempt.event == outcome
        assert not js.published
        assert not msg.termed


def test_a_dead_letter_too_big_for_the_server_keeps_its_reason_and_size() -> None:
    """A message that fit the bus can outgrow max_payload with the DLQ headers: its letter leaves the
    payload behind (the original stays in its stream) instead of the server dropping the connection."""
    fills = next(c for c in CASES if c.subject.template_text == "trading.fills.{bot_id}")
    raw = b" " * (MAX_PAYLOAD_BYTES - 100)
    attempt, js, msg = receive(fills, raw)
    assert attempt is None
    assert msg.termed
    [(_, data, headers)] = js.published
    assert data == b""
    assert headers[h.DLQ_TRUNCATED] == str(len(raw))
    assert "exceeds" in headers[h.DLQ_REASON]
    assert "not copied: over max_payload" in headers[h.DLQ_REASON]

"""Hypothesis strategies of hostile bus payloads: random bytes, wrong types, mutated valid events, deep
nesting, future versions, NaN/Infinity, huge numbers, invalid UTF-8 and oversize."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from registry.codec import MAX_EVENT_BYTES


@dataclass(frozen=True)
class Raw:
    """A JSON token written as is: NaN, Infinity, 1e999999, a 5,000-digit integer."""

    text: str


def dump(value: Any) -> str:
    """JSON text of `value`, where a `Raw` is spliced in verbatim."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    """`depth` nested arrays (or objects keyed "a") around a 1."""
    if open_ == "{":
        return '{"a":' * depth + "1" + "}" * depth
    return open_ * depth + "1" + close * depth


SPECIAL_TOKENS = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999999",
        "-1e999999",
        "1e-999999",
        "9" * 5000,
        "-" + "9" * 5000,
        "18446744073709551616",
        "1.7976931348623157e309",
        "0.0000000000000000000000000000000000000000000001",
        "true",
        "null",
        '"NaN"',
        '"Infinity"',
        '"sNaN"',
        '"1e999999999"',
        '"1e-999999999"',
        '"' + "9" * 100_000 + '"',
        '"\\u0000"',
        '"a\\u0000b"',
        '"\\ud800"',
        '"\\udfff\\ud800"',
        nested(5000),
        nested(5000, "{"),
        "[]",
        "{}",
    ]
).map(Raw)

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | SPECIAL_TOKENS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
"""Any JSON value, plus tokens plain JSON cannot hold."""


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> bytes:
    """The wire dict of a valid event with some fields replaced, dropped or added, maybe a future version."""
    body = dict(valid)
    names = sorted(body)
    for name in draw(st.lists(st.sampled_from(names), max_size=4, unique=True)):
        action = draw(st.sampled_from(["replace", "drop", "special"]))
        if action == "drop":
            body.pop(name, None)
        elif action == "replace":
            body[name] = draw(JSON_VALUES)
        else:
            body[name] = draw(SPECIAL_TOKENS)
    for key in draw(st.lists(st.text(max_size=12), max_size=3)):
        body[key] = draw(JSON_VALUES)
    if draw(st.booleans()):
        body["schema_version"] = draw(
            st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from([0, 2, 3, 99]) | JSON_VALUES
        )
    text = dump(body).encode()
    if draw(st.integers(0, 9)) == 0:  # invalid UTF-8 spliced in somewhere
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\x00"]))
            + text[at:]
        )
    return text


@st.composite
def deep(draw: st.DrawFn, valid: dict[str, Any]) -> bytes:
    """Nesting from a few to 100,000 levels, alone or in a field of a valid event."""
    depth = draw(st.sampled_from([2, 50, 199, 200, 201, 1000, 10_000, 100_000]))
    shape = draw(st.sampled_from(["[", "{"]))
    blob = nested(depth, shape, "]")
    if draw(st.booleans()):
        return blob.encode()
    body = dict(valid)
    body[draw(st.sampled_from([*sorted(body), "extra"]))] = Raw(blob)
    return dump(body).encode()


@st.composite
def oversized(draw: st.DrawFn, valid: dict[str, Any]) -> bytes:
    """A payload just over the codec's limit: whitespace, or a valid event padded with an extra field."""
    over = MAX_EVENT_BYTES + draw(st.integers(1, 64 * 1024))
    if draw(st.booleans()):
        return b" " * over
    body = dict(valid)
    body["padding"] = "x" * over
    return dump(body).encode()


def hostile(valid: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Every kind of bad (and some good) payload, around `valid`, the wire dict of a valid event."""
    return st.one_of(
        st.binary(max_size=512),
        JSON_VALUES.map(lambda v: dump(v).encode()),
        mutated(valid),
        deep(valid),
        oversized(valid),
    )

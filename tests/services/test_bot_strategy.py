"""The SMA crossover strategy as a pure function: hand-written closes, long/flat policy, exact means."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.common import Side
from services.bot.strategy import ParamsError, SmaParams, SmaState, fold, suppress, warm

P = SmaParams(fast=2, slow=3, qty=Decimal("0.01"))


def run(params: SmaParams, state: SmaState, closes: list[float]) -> tuple[SmaState, list[Side | None]]:
    signals = []
    for close in closes:
        state, signal = fold(params, state, close)
        signals.append(signal)
    return state, signals


def test_golden_then_death_cross() -> None:
    # Windows fill at 10 (fast 10.5 < slow 11); 14 lifts fast to 12 over 11.67; 6 drops it to 7 under 9.33.
    state, signals = run(P, SmaState(), [12, 11, 10, 14, 8, 6])
    assert signals == [None, None, None, Side.BUY, None, Side.SELL]
    assert state.last_signal is Side.SELL
    assert state.closes == (14, 8, 6)
    assert state.fast_above is False


def test_a_death_cross_while_flat_sells_nothing() -> None:
    # Rising first (fast above), then a death cross with no buy before it: long/flat emits nothing.
    state, signals = run(P, SmaState(), [10, 11, 12, 8, 7])
    assert signals == [None] * 5
    assert state.fast_above is False
    assert state.last_signal is None
    _, signals = run(P, state, [15])  # the next golden cross buys
    assert signals == [Side.BUY]


def test_warm_up_fills_the_windows_so_the_first_live_close_can_signal() -> None:
    state = warm(P, [12, 11, 10])
    assert state.fast_above is False
    assert state.last_signal is None
    assert fold(P, state, 14)[1] is Side.BUY
    # A crossing inside the warm-up history is not acted on: the bot starts flat.
    rose = warm(P, [12, 11, 10, 14])
    assert rose.fast_above is True
    assert rose.last_signal is None


def test_short_history_waits_for_a_full_window() -> None:
    state = warm(P, [10])
    _, signals = run(P, state, [9, 14, 15])
    assert signals == [None, None, None]  # window full at 14 (fast above): no crossing seen yet


def test_means_are_compared_exactly() -> None:
    # (0.1 + 0.3 + 0.2) / 3 is 0.20000000000000004 in floats, above the fast mean 0.2: a float
    # comparison would see a death cross here. Exactly, the means are equal and nothing crosses.
    state = SmaState(closes=(5.0, 0.1, 0.3), fast_above=True, last_signal=Side.BUY)
    after, signal = fold(SmaParams(fast=1, slow=3, qty=Decimal(1)), state, 0.2)
    assert signal is None
    assert after.fast_above is True


def test_suppressed_signal_leaves_the_position() -> None:
    before = warm(P, [12, 11, 10])
    after, signal = fold(P, before, 14)
    assert signal is Side.BUY
    held = suppress(before, after, signal, "risk latch halted")
    assert held.last_signal is None
    assert held.suppressed == 1
    assert held.last_suppressed == "buy: risk latch halted"
    _, signals = run(P, held, [8, 6])  # still flat: the death cross sells nothing
    assert signals == [None, None]


def test_state_round_trips_through_json() -> None:
    state, _ = run(P, SmaState(), [12, 11, 10, 14.25])
    again = SmaState.from_json(json.loads(json.dumps(state.to_json())))
    assert again == state


@given(st.lists(st.floats(min_value=0.01, max_value=1e6, allow_nan=False), max_size=60))
def test_deterministic_and_alternating(closes: list[float]) -> None:
    params = SmaParams(fast=3, slow=7, qty=Decimal(1))
    first = run(params, SmaState(), closes)
    assert run(params, SmaState(), closes) == first
    acted = [s for s in first[1] if s is not None]
    assert acted[:1] in ([], [Side.BUY])
    assert all(a is not b for a, b in itertools.pairwise(acted))
    # Folding from a JSON-restored state midway gives the same signals.
    half = len(closes) // 2
    mid, head = run(params, SmaState(), closes[:half])
    restored = SmaState.from_json(json.loads(json.dumps(mid.to_json())))
    assert head + run(params, restored, closes[half:])[1] == first[1]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"fast": 5, "slow": 5, "qty": "1"}, "need 1 <= fast < slow, got fast=5 slow=5"),
        ({"fast": "5", "slow": 20, "qty": "1"}, "fast and slow must be integers"),
        ({"fast": 5, "slow": 20}, "qty must be a decimal number, got None"),
        ({"fast": 5, "slow": 20, "qty": "-1"}, "qty must be a positive decimal"),
        ({"fast": 5, "slow": 20, "qty": "abc"}, "qty must be a decimal number"),
    ],
)
def test_bad_params_say_what_is_wrong(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ParamsError) as error:
        SmaParams.parse(raw)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_params_parse() -> None:
    assert SmaParams.parse({"fast": 5, "slow": 20, "qty": "0.001"}) == SmaParams(5, 20, Decimal("0.001"))
    assert SmaParams.parse({"fast": 1, "slow": 2, "qty": 2}).qty == Decimal(2)

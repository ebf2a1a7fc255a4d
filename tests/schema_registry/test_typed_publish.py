"""Generated channels make mistakes type errors: `mypy --strict` refuses them, accepts the right call."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from mypy import api

from gordon.paths import ROOT

PRELUDE = """
from typing import TypeVar
from producers.channels import FILLS, INTENTS, KLINES
from registry.address import Address
from registry.event import Event
from schemas.market import Kline
from schemas.trading import Fill

E = TypeVar("E", bound=Event)

def publish(address: Address[E], event: E) -> None: ...

def use(fill: Fill, kline: Kline) -> None:
"""

CASES = {
    "right": ("publish(FILLS(bot_id='x'), fill)", None),
    "wrong_payload": ("publish(FILLS(bot_id='x'), kline)", 'Cannot infer value of type parameter "E"'),
    "missing_param": ("publish(KLINES(market='spot', tf='1m'), kline)", 'Missing named argument "symbol_lc"'),
    "extra_param": ("publish(INTENTS(bot_id='x'), kline)", 'Unexpected keyword argument "bot_id"'),
    "positional_param": ("publish(FILLS('x'), fill)", "Too many positional arguments"),
}


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One mypy run over a file per case; returns each case's output lines."""
    folder = tmp_path_factory.mktemp("typed")
    files = {}
    for name, (call, _) in CASES.items():
        path = folder / f"case_{name}.py"
        path.write_text(textwrap.dedent(PRELUDE) + f"    {call}\n")
        files[name] = path
    out, err, _ = api.run(
        ["--strict", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(ROOT / ".mypy_cache")]
        + [str(p) for p in files.values()]
    )
    assert not err, err
    return {
        name: "\n".join(line for line in out.splitlines() if Path(line.split(":")[0]).name == path.name)
        for name, path in files.items()
    }


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", list(CASES))
def test_mypy_judges_each_publish(case: str, mypy_report: dict[str, str]) -> None:
    expected = CASES[case][1]
    if expected is None:
        assert mypy_report[case] == ""
    else:
        assert expected in mypy_report[case], mypy_report[case]

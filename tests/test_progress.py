"""`gordon.progress.bar`: a rich bar with counts, rate and time left on a terminal; nothing at all when
stdout is not one; and the long commands draw it (DLQ replay here, through the CLI)."""

from __future__ import annotations

import io

import pytest

from gordon import progress


class Terminal(io.StringIO):
    """What rich writes to, claiming to be a terminal."""

    def isatty(self) -> bool:
        return True


def test_off_when_the_output_is_not_a_terminal() -> None:
    out = io.StringIO()
    with progress.bar("export trading.fills.>", "events", out) as report:
        for n in range(1, 101):
            report(n, 100)
    assert out.getvalue() == ""


def test_counts_rate_and_time_left_on_a_terminal() -> None:
    out = Terminal()
    with progress.bar("rebuild fills", "seq", out) as report:
        report(0, None)  # total not known yet
        for n in range(1, 1001):
            report(n, 1000)
    text = out.getvalue()
    assert "rebuild fills" in text
    assert "1000/1000" in text
    assert " seq/s" in text
    assert "left" in text


def test_stdout_decides(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with progress.bar("replay gordon-dlq", "letters") as report:  # pytest's captured stdout: no terminal
        report(1, 1)
    assert capsys.readouterr().out == ""
    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    with progress.bar("replay gordon-dlq", "letters") as report:
        report(3, 3)
    assert "3/3" in terminal.getvalue()

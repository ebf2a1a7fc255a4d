"""Read what a server wrote to its log since it was started, to explain a failed start."""

from __future__ import annotations

from pathlib import Path

_FAILURE_MARKS = ("[FTL]", "[ERR]", "FATAL:", "PANIC:", "error:", "ERROR:")


def log_size(log: Path) -> int:
    """Current size of `log` (0 when missing): where this start's output begins."""
    try:
        return log.stat().st_size
    except FileNotFoundError:
        return 0


def written_since(log: Path, offset: int) -> str:
    """The text appended to `log` after `offset`."""
    try:
        with log.open("rb") as file:
            file.seek(offset)
            return file.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def port_in_use(text: str) -> bool:
    """True when a server's log says it could not bind its port."""
    return "address already in use" in text.lower()


def failure_line(text: str) -> str | None:
    """The last line of `text` that reports a failure, without its timestamp prefix."""
    for line in reversed(text.splitlines()):
        for mark in _FAILURE_MARKS:
            at = line.find(mark)
            if at >= 0:
                return line[at:].strip()
    return None

"""Processes from /proc (Linux): who descends from whom, and who is still alive, to check that
servers leave nothing running behind them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Proc:
    """A process identified by pid and start time, so a reused pid is not mistaken for it."""

    pid: int
    started: int


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of `pid`, or None when it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[19])


def descendants(pid: int) -> set[Proc]:
    """Every live process below `pid` (children, grandchildren, ...)."""
    parents: dict[int, list[Proc]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents.setdefault(stat[1], []).append(Proc(int(entry.name), stat[2]))
    found: set[Proc] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child.pid)
    return found


def alive(proc: Proc) -> bool:
    """True while `proc` runs (a zombie, dead but not yet reaped, does not count)."""
    stat = _stat(proc.pid)
    return stat is not None and stat[2] == proc.started and stat[0] != "Z"

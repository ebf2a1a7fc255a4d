"""Progress bars for long commands (rebuild, verify, export, audit, DLQ replay): counts, rate and time
left, drawn by rich on a terminal; nothing at all when stdout is not one (a pipe, a file, CI), so what
a script reads is only the result lines.

The library code reports progress through a plain callback, `report(done, total)` (total None while it
is not known); a command passes the callback `bar()` yields.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

Report = Callable[[int, int | None], None]
"""`report(done, total)`: how far a long operation is (total None while it is not known)."""


class RateColumn(ProgressColumn):
    """Items per second over the last few updates (rich's own speed, which knows no unit but bytes)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


def _ignore(done: int, total: int | None) -> None:
    """A report nobody draws (stdout is not a terminal)."""


@contextmanager
def bar(what: str, unit: str, out: TextIO | None = None) -> Iterator[Report]:
    """A progress bar for `what`, counting `unit`s, while the block runs; off unless `out` (stdout by
    default) is a terminal. The bar stays on screen when done, showing the final count and rate."""
    stream = out if out is not None else sys.stdout
    if not stream.isatty():
        yield _ignore
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream), refresh_per_second=8) as progress:
        task = progress.add_task(what, total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield report

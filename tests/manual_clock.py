"""The clock tests inject: the code under test reads it, the test moves `now` by hand."""

from __future__ import annotations


class ManualClock:
    """A clock at `now` (UTC milliseconds) until the test sets it."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

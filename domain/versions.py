"""Per-aggregate version discipline: each event's version must be exactly the state's version + 1."""

from __future__ import annotations


class VersionError(ValueError):
    """An event whose version is not the next one of its aggregate."""

    def __init__(self, aggregate: str, expected: int, actual: int, what: str) -> None:
        self.aggregate = aggregate
        self.expected = expected
        self.actual = actual
        super().__init__(f"{aggregate}: version {actual} is {what} (expected {expected})")


class StaleVersion(VersionError):
    """The version is already applied: a duplicate or redelivery, safe to skip."""

    def __init__(self, aggregate: str, expected: int, actual: int) -> None:
        super().__init__(aggregate, expected, actual, "already applied")


class VersionGap(VersionError):
    """The version is ahead of the next one: its predecessor has not arrived yet (buffer it)."""

    def __init__(self, aggregate: str, expected: int, actual: int) -> None:
        super().__init__(aggregate, expected, actual, "ahead of a gap")


def check_next(aggregate: str, current: int, actual: int) -> None:
    """Raise `StaleVersion` or `VersionGap` unless `actual` is `current + 1` (current is 0 for none)."""
    expected = current + 1
    if actual < expected:
        raise StaleVersion(aggregate, expected, actual)
    if actual > expected:
        raise VersionGap(aggregate, expected, actual)

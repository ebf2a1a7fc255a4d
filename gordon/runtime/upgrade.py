"""Find the schema migrator, `gordon.migrate.upgrade(dsn)`, when the package provides one."""

from __future__ import annotations

import importlib
from collections.abc import Callable

MODULE = "gordon.migrate"

Upgrade = Callable[[str], None]


def find_upgrade() -> Upgrade | None:
    """`gordon.migrate.upgrade`, or None while that module (or the function) does not exist."""
    try:
        module = importlib.import_module(MODULE)
    except ModuleNotFoundError as error:
        if error.name == MODULE:
            return None
        raise
    upgrade: Upgrade | None = getattr(module, "upgrade", None)
    return upgrade if callable(upgrade) else None

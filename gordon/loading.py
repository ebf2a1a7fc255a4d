"""Import a project module for a command, turning a failure into one GordonError line that names the
module and line that failed (a half-done schema change must not print a traceback)."""

from __future__ import annotations

import importlib
import traceback
from pathlib import Path
from types import ModuleType

from gordon.paths import ROOT
from settings.errors import GordonError

_VENDORED = (".venv", ".tools")


def load(name: str) -> ModuleType:
    """`importlib.import_module(name)`; any exception while importing becomes a GordonError saying
    which project file failed and why (a GordonError raised by the module itself passes unchanged)."""
    try:
        return importlib.import_module(name)
    except GordonError:
        raise
    except Exception as error:
        raise GordonError(f"cannot import {name}: {describe(error)}") from None


def describe(error: BaseException) -> str:
    """`schemas.trading (schemas/trading.py:42): AttributeError: ...`: the innermost project frame of
    the traceback and the first line of the error."""
    text = str(error).strip().splitlines()
    line = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
    where = _innermost_project_frame(error)
    return f"{where}: {line}" if where else line


def _innermost_project_frame(error: BaseException) -> str | None:
    found: str | None = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith("<") or frame.filename == __file__:
            continue  # <frozen importlib._bootstrap>, <string>, load() itself
        path = Path(frame.filename)
        try:
            relative = path.resolve().relative_to(ROOT)
        except (OSError, ValueError):
            continue
        if relative.parts and relative.parts[0] in _VENDORED:
            continue
        module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        found = f"{module} ({relative.as_posix()}:{frame.lineno})"
    if found is None and isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename}:{error.lineno}"
    return found

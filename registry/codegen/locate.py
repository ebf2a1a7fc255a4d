"""Where a declaration lives: the module and name a generated file imports it by."""

from __future__ import annotations

import re
import sys
from typing import Any

from registry.subject import Subject


def declaration_name(subject: Subject[Any]) -> tuple[str, str]:
    """(module, variable) under which `subject` is declared; its payload's module must hold it."""
    module = sys.modules[subject.payload.__module__]
    for name, value in vars(module).items():
        if value is subject:
            return module.__name__, name
    raise LookupError(f"{subject.template_text}: not found in {module.__name__}")


def camel(constant: str) -> str:
    """`RISK_EVENTS` -> `RiskEvents`."""
    return "".join(part.capitalize() for part in constant.lower().split("_"))


def snake_from_durable(durable: str) -> str:
    """`bot-{bot_id}-{market}-klines` -> `bot_klines`: the literal words of a durable template."""
    words = [w for w in re.sub(r"\{[^}]*\}", "", durable).split("-") if w]
    return "_".join(words)

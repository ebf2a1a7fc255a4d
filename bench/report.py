"""Benchmark output: the closing line every benchmark prints, and its section in bench/RESULTS.md."""

from __future__ import annotations

import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def closing_line(name: str, metric: str, ratio: float, goal: str) -> str:
    """`<name>: <metric> ratio=<value> goal=<goal>`: the last line of every benchmark."""
    return f"{name}: {metric} ratio={ratio:.3f} goal={goal}"


def record(name: str, body: str) -> None:
    """Replace benchmark `name`'s section of RESULTS.md with `body`, stamped with how it was made."""
    command = "python -m bench." + name + ("" if len(sys.argv) < 2 else " " + " ".join(sys.argv[1:]))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"## {name}\n\n`{command}` — {stamp}, Python {platform.python_version()}, "
        f"{platform.machine()}\n\n{body.strip()}\n"
    )
    text = (
        RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nLatest run of each benchmark.\n"
    )
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n")

"""What both chaos suites share: the seeded fault plan and its run, waiting for the victims to settle while
they are kept alive, and the tails of every log for a failure message."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import asyncpg

from tests.chaos.victims import Victims


def fault_plan(
    rng: random.Random, duration_s: float, kinds: Sequence[str], faults: int
) -> list[tuple[float, str]]:
    """When (seconds into the load) to hit which part: every kind once, then random ones, `faults` in all,
    spread evenly with some jitter."""
    chosen = [*kinds, *(rng.choice(kinds) for _ in range(faults - len(kinds)))]
    rng.shuffle(chosen)
    step = duration_s / (len(chosen) + 1)
    return [(step * (i + 1) + rng.uniform(-0.3, 0.3) * step, kind) for i, kind in enumerate(chosen)]


async def run_plan(plan: list[tuple[float, str]], victims: Victims, rng: random.Random, began: float) -> None:
    """Hit each victim at its moment (seconds after `began`, monotonic), bring it back 0.2-1.5 s later,
    and restart meanwhile whatever exits on its own."""
    for at, kind in plan:
        while time.monotonic() - began < at:
            victims.supervise()
            await asyncio.sleep(0.1)
        victims.hit(kind)
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        victims.bring_back(kind)


async def converge(
    behind: Callable[[], Awaitable[str]], supervise: Callable[[], None], timeout_s: float
) -> str | None:
    """Keep the victims alive (`supervise`) until `behind()` says nothing is left to do; None once it
    has, else what it said last when `timeout_s` ran out (a server still restarting counts as behind)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    left = "nothing observed yet"
    while loop.time() < deadline:
        supervise()
        try:
            left = await behind()
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            left = f"{type(exc).__name__}: {exc}"
        if not left:
            return None
        await asyncio.sleep(0.5)
    return left


def log_tails(folder: Path, lines: int = 15) -> str:
    """The last `lines` lines of every log under `folder`."""
    tails = []
    for log in sorted(folder.glob("**/*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        tails.append(f"--- {log.relative_to(folder)}\n" + "\n".join(tail))
    return "the last lines of every log:\n" + "\n".join(tails)

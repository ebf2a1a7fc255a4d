"""The chaos suite's victims: subprocesses it SIGKILLs and restarts (and restarts when they die on
their own, as a service manager would), and the embedded servers it kills and brings back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.postgres_server import EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Child:
    """One process of the platform: `python -m <module> <args>` with its own env and log."""

    kind: str
    module: str
    args: list[str]
    env: dict[str, str]
    log: Path
    fresh: Callable[[], dict[str, str]] | None = field(default=None, repr=False)
    """Variables computed anew at each start (such as the data feed's simulated start time)."""
    kills: int = 0
    exits: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                env={**os.environ, **self.env, **(self.fresh() if self.fresh else {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def kill(self) -> None:
        """SIGKILL and reap: no cleanup, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.kills += 1
        self.process = None

    def revive(self) -> bool:
        """Restart the process if it exited on its own; True when it had."""
        if self.process is not None and self.process.poll() is None:
            return False
        if self.process is not None:
            self.exits += 1
        self.start()
        return True

    def stop(self) -> int | None:
        """SIGTERM, SIGKILL after 15 s; the exit code (None when it had to be killed)."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
                return None
        return process.returncode


def kill_nats(server: EmbeddedNats) -> None:
    """SIGKILL nats-server (its file store stays on disk), then reap it."""
    if server.pid is not None:
        os.kill(server.pid, signal.SIGKILL)
    server.stop()


@dataclass
class Victims:
    """What a chaos run hits, by kind: a child by its name, `nats` (SIGKILL) and `postgres` (stopped in
    immediate mode: never SIGKILL the postmaster, that orphans its backends)."""

    children: dict[str, Child]
    nats: EmbeddedNats
    postgres: EmbeddedPostgres
    hits: Counter[str] = field(default_factory=Counter)
    retired: dict[str, Child] = field(default_factory=dict)
    """Children stopped for good before the end (no longer hit or restarted), still counted."""

    def hit(self, kind: str) -> None:
        if kind in self.children:
            self.children[kind].kill()
        elif kind == "nats":
            kill_nats(self.nats)
        else:
            self.postgres.crash()
        self.hits[kind] += 1

    def bring_back(self, kind: str) -> None:
        if kind in self.children:
            self.children[kind].start()
        elif kind == "nats":
            self.nats.start()
        else:
            self.postgres.start()

    def supervise(self) -> None:
        """Restart every child that exited on its own, as a service manager would."""
        for child in self.children.values():
            child.revive()

    def retire(self, kind: str) -> int | None:
        """Stop child `kind` for good (SIGTERM: a clean stop); its exit code."""
        child = self.retired[kind] = self.children.pop(kind)
        return child.stop()

    def kills(self, kinds: Iterable[str]) -> dict[str, int]:
        """How often each kind was actually hit while running (a child already down is not counted)."""
        every = {**self.children, **self.retired}
        return {k: every[k].kills if k in every else self.hits[k] for k in kinds}

    def exits(self) -> dict[str, int]:
        """The children that exited on their own, and how often."""
        every = {**self.children, **self.retired}
        return {kind: child.exits for kind, child in every.items() if child.exits}

    def stop(self) -> dict[str, int | None]:
        """SIGTERM every child (their exit codes), and bring back a server left down."""
        codes = {kind: child.stop() for kind, child in self.children.items()}
        if not self.nats.pid:
            self.nats.start()
        if not self.postgres.pid:
            self.postgres.start()
        return codes

"""The chaos suite's victims: subprocesses it SIGKILLs and restarts (and restarts when they die on
their own, as a service manager would), and the embedded servers it kills and brings back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gordon.runtime.nats_server import EmbeddedNats

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

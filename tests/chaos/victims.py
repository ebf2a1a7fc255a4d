"""The chaos suite's victims: subprocesses it SIGKILLs and restarts (and restarts when they die on
their own, as a service manager would), and the embedded servers it kills and brings back."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gordon.runtime.nats_server import EmbeddedNats
from gordon.runtime.ports import HOST

ROOT = Path(__file__).resolve().parents[2]
BELOW_EPHEMERAL = (20000, 32000)
"""Servers restarted on their port take it from here: the kernel hands out ephemeral ports (32768 up)
to every other test's `-p -1` or free_port() meanwhile, and one could take a port while it is free."""


def restartable_port() -> int:
    """A free port below the ephemeral range, for a server that must come back on the same one."""
    pick = random.SystemRandom()
    for _ in range(100):
        port = pick.randrange(*BELOW_EPHEMERAL)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {BELOW_EPHEMERAL} on {HOST}")


@dataclass
class Child:
    """One process of the platform: `python -m <module> <args>` with its own env and log."""

    kind: str
    module: str
    args: list[str]
    env: dict[str, str]
    log: Path
    kills: int = 0
    exits: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                env={**os.environ, **self.env},
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

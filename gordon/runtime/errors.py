"""Why an embedded server did not come up, in one line that points at its log."""

from __future__ import annotations

from pathlib import Path

from settings.errors import GordonError


class ServerStartError(GordonError, RuntimeError):
    """An embedded server failed to start; str() names the server, the cause and the log file."""

    def __init__(self, server: str, cause: str, log: Path) -> None:
        self.server = server
        self.cause = " ".join(cause.split())
        self.log = log
        super().__init__(f"{server} did not start: {self.cause} (log: {log})")

"""What a running `gordon up` started, kept in `GORDON_DATA_DIR/endpoints.json` while it runs.

A second shell's commands read it when GORDON_NATS_URL / GORDON_DATABASE_URL are unset, so with only
GORDON_DATA_DIR set they reach the same servers and log in to NATS with the passwords generated for
this run. The file is readable by its owner only (it holds those passwords) and removed on a clean stop;
one left by a run that died is recognised by its process id and reported, never used.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from settings.errors import GordonError

FILE_NAME = "endpoints.json"


class EndpointsFileError(GordonError):
    """The endpoints file exists but cannot be read; one line naming it."""


@dataclass(frozen=True)
class RunEndpoints:
    """Where one `gordon up` run's servers listen, and its NATS users' passwords (empty: no login)."""

    nats_url: str
    database_url: str
    pid: int
    manager_url: str | None = None
    nats_passwords: dict[str, str] = field(default_factory=dict)
    http: dict[str, str] = field(default_factory=dict)
    """Base URL of each part's `/healthz` and `/metrics` by name (the five services, "workers")."""

    @property
    def alive(self) -> bool:
        """Whether the process that wrote the file still runs."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # it exists, under another user
        return True


def path(data_dir: Path) -> Path:
    """The endpoints file of `data_dir`."""
    return data_dir / FILE_NAME


def write(data_dir: Path, run: RunEndpoints) -> Path:
    """Write the file atomically, created readable and writable by the owner only."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = path(data_dir)
    partial = target.with_name(f".{FILE_NAME}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(asdict(run), out, indent=2)
    os.replace(partial, target)
    return target


def read(data_dir: Path) -> RunEndpoints | None:
    """The recorded run (alive or not), or None when there is no file."""
    target = path(data_dir)
    try:
        data = json.loads(target.read_text())
        return RunEndpoints(
            nats_url=str(data["nats_url"]),
            database_url=str(data["database_url"]),
            pid=int(data["pid"]),
            manager_url=data.get("manager_url"),
            nats_passwords={str(k): str(v) for k, v in data.get("nats_passwords", {}).items()},
            http={str(k): str(v) for k, v in data.get("http", {}).items()},
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise EndpointsFileError(f"{target}: unreadable endpoints file ({error}); remove it") from None


def remove(data_dir: Path, pid: int) -> None:
    """Remove the file if the run `pid` wrote it (a later run's file is left alone)."""
    run = read(data_dir)
    if run is not None and run.pid == pid:
        path(data_dir).unlink(missing_ok=True)

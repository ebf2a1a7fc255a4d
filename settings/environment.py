"""Process settings read once from the environment (GORDON_*), validated up front.

A bad value fails early with one line naming the variable, instead of deep inside a server start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from settings import endpoints
from settings.endpoints import RunEndpoints
from settings.errors import GordonError

NATS_URL = "GORDON_NATS_URL"
DATABASE_URL = "GORDON_DATABASE_URL"
DATA_DIR = "GORDON_DATA_DIR"
MANAGER_TOKEN = "GORDON_MANAGER_TOKEN"
MANAGER_HOST = "GORDON_MANAGER_HOST"
MANAGER_PORT = "GORDON_MANAGER_PORT"
STREAM_REPLICAS = "GORDON_STREAM_REPLICAS"
SERVERS = {NATS_URL: "NATS server", DATABASE_URL: "PostgreSQL server"}
"""What each URL variable points at, as the one wording for a missing server names it."""
HTTP_HOST = "GORDON_HTTP_HOST"
WORKERS_PORT = "GORDON_WORKERS_PORT"
DEFAULT_MANAGER_HOST = "127.0.0.1"
SERVICE_PORTS = {"data": 8081, "risk": 8082, "manager": 8083, "bot": 8084, "executor": 8085}
"""Each service's default HTTP port (`/healthz`, `/metrics`; the manager's API too)."""
DEFAULT_WORKERS_PORT = 8086
"""Where `gordon up` serves the drain's and projection runners' `/healthz` and `/metrics`."""
DEFAULT_MANAGER_PORT = SERVICE_PORTS["manager"]
MAX_STREAM_REPLICAS = 5
"""JetStream's own limit on a stream's replica count."""

NATS_SCHEMES = ("nats", "tls", "ws", "wss")
DATABASE_SCHEMES = ("postgresql", "postgres")


class SettingsError(GordonError, ValueError):
    """A GORDON_* variable holds an unusable value; str() is one line naming the variable."""


@dataclass(frozen=True)
class Settings:
    """Where the servers are (None = start an embedded one), where local data lives, and where the
    manager API listens with its operator token (None: its write endpoints are disabled; port 0: any
    free port), and how many replicas the platform gives its streams (None: as declared in schemas)."""

    nats_url: str | None
    database_url: str | None
    data_dir: Path
    manager_token: str | None = None
    manager_host: str = DEFAULT_MANAGER_HOST
    manager_port: int = DEFAULT_MANAGER_PORT
    stream_replicas: int | None = None
    http_host: str = DEFAULT_MANAGER_HOST
    """Where the services other than the manager serve `/healthz` and `/metrics`."""
    service_ports: dict[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    """Each service's HTTP port by name (GORDON_<NAME>_PORT; 0: any free port); the manager's is
    `manager_port`."""
    workers_port: int = DEFAULT_WORKERS_PORT
    running: RunEndpoints | None = None
    """The live `gordon up` whose endpoints file filled in the URLs left unset, if any."""
    stale: RunEndpoints | None = None
    """An endpoints file left by a `gordon up` that no longer runs (reported, never used)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, use_running: bool = True) -> Settings:
        """Read and check the GORDON_* variables.

        An empty variable counts as unset. GORDON_DATA_DIR defaults to `.data` in the
        current directory and is made absolute, so later `chdir`s do not move it. With `use_running`,
        URLs left unset come from the endpoints file of a `gordon up` running on that data directory
        (`gordon up` itself passes False: it starts the servers the file describes).
        """
        env = os.environ if env is None else env
        nats_url = _nats_url(_get(env, NATS_URL))
        database_url = _database_url(_get(env, DATABASE_URL))
        data_dir = _data_dir(_get(env, DATA_DIR))
        running = stale = None
        if use_running and (nats_url is None or database_url is None):
            recorded = endpoints.read(data_dir)
            if recorded is not None and recorded.alive:
                running = recorded
                nats_url = nats_url or recorded.nats_url
                database_url = database_url or recorded.database_url
            elif recorded is not None:
                stale = recorded
        return cls(
            nats_url=nats_url,
            database_url=database_url,
            data_dir=data_dir,
            manager_token=_manager_token(_get(env, MANAGER_TOKEN)),
            manager_host=_get(env, MANAGER_HOST) or DEFAULT_MANAGER_HOST,
            manager_port=parse_port(MANAGER_PORT, _get(env, MANAGER_PORT) or str(DEFAULT_MANAGER_PORT)),
            stream_replicas=_stream_replicas(_get(env, STREAM_REPLICAS)),
            http_host=_get(env, HTTP_HOST) or DEFAULT_MANAGER_HOST,
            service_ports={
                name: parse_port(port_variable(name), _get(env, port_variable(name)) or str(default))
                for name, default in SERVICE_PORTS.items()
            },
            workers_port=parse_port(WORKERS_PORT, _get(env, WORKERS_PORT) or str(DEFAULT_WORKERS_PORT)),
            running=running,
            stale=stale,
        )

    def http_port(self, service: str) -> int:
        """The HTTP port of `service` (the manager's is GORDON_MANAGER_PORT)."""
        return self.manager_port if service == "manager" else self.service_ports[service]

    def http_address(self, service: str) -> str:
        """The host `service` listens on: GORDON_MANAGER_HOST for the manager, else GORDON_HTTP_HOST."""
        return self.manager_host if service == "manager" else self.http_host

    def not_set(self, variable: str, purpose: str, option: str | None = None) -> str:
        """The one wording for a server a command needs and has no address of (`variable`: its GORDON_*
        URL; `purpose`: what the command wants it for; `option`: a flag that gives the URL instead)."""
        if self.stale is not None:
            why = (
                f"{endpoints.path(self.data_dir)} is from a `gordon up` (pid {self.stale.pid}) "
                "that is no longer running"
            )
        else:
            why = f"no `gordon up` is running with {DATA_DIR}={self.data_dir}"
        fix = f"set {variable}" + (f" or pass {option}" if option else "") + ", or start `gordon up`"
        return f"no {SERVERS[variable]} for {purpose}: {variable} is not set and {why} ({fix})"


def unreachable(variable: str, url: str, error: BaseException) -> str:
    """The one wording for a server a command has the address of and cannot reach (its URL is shown
    without a password)."""
    cause = " ".join(str(error).split()) or type(error).__name__
    shown = ",".join(redact_password(u.strip()) for u in url.split(","))
    return f"cannot reach the {SERVERS[variable]} at {shown}: {cause}"


def port_variable(service: str) -> str:
    """The variable holding `service`'s HTTP port: GORDON_DATA_PORT, GORDON_MANAGER_PORT, ..."""
    return f"GORDON_{service.upper()}_PORT"


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _split(name: str, value: str, shown: str) -> SplitResult:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as error:
        raise SettingsError(f"{name}: {error} in {shown!r}") from None
    return parts


def nats_servers(url: str) -> list[str]:
    """The servers of a NATS URL setting, which may list a cluster's nodes comma-separated (nats-py
    takes a list, not the comma-separated string)."""
    return [server.strip() for server in url.split(",") if server.strip()]


def _nats_url(value: str | None) -> str | None:
    if value is None:
        return None
    shown = value
    # a cluster's nodes may be listed comma-separated (see nats_servers); check each one.
    for server in value.split(","):
        parts = _split(NATS_URL, server.strip(), shown)
        if parts.scheme not in NATS_SCHEMES or not parts.hostname:
            raise SettingsError(
                f"{NATS_URL}: expected a URL like nats://127.0.0.1:4222 "
                f"(schemes {', '.join(NATS_SCHEMES)}), got {shown!r}"
            )
    return value


def _database_url(value: str | None) -> str | None:
    if value is None:
        return None
    shown = redact_password(value)
    parts = _split(DATABASE_URL, value, shown)
    if parts.scheme not in DATABASE_SCHEMES:
        raise SettingsError(
            f"{DATABASE_URL}: expected a URL like postgresql://user@127.0.0.1:5432/db, got {shown!r}"
        )
    if not parts.hostname and "host=" not in parts.query:
        raise SettingsError(f"{DATABASE_URL}: no host in {shown!r}")
    if not parts.username:
        raise SettingsError(f"{DATABASE_URL}: no user in {shown!r}")
    return value


def _data_dir(value: str | None) -> Path:
    path = Path(value if value is not None else ".data").expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{DATA_DIR}: {str(path)!r} exists and is not a directory")
    return path


MIN_TOKEN_LENGTH = 16


def _manager_token(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) < MIN_TOKEN_LENGTH or any(c.isspace() for c in value):
        raise SettingsError(
            f"{MANAGER_TOKEN}: expected at least {MIN_TOKEN_LENGTH} characters and no spaces "
            f"(got {len(value)} characters)"
        )
    return value


def _stream_replicas(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_STREAM_REPLICAS:
        raise SettingsError(
            f"{STREAM_REPLICAS}: expected a replica count 1..{MAX_STREAM_REPLICAS}, got {value!r}"
        )
    return count


def parse_port(name: str, value: str, *, allow_any: bool = True) -> int:
    """A TCP port from text (0, "any free port", only when `allow_any`); SettingsError naming `name`."""
    low = 0 if allow_any else 1
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not low <= port <= 65535:
        raise SettingsError(f"{name}: expected a port {low}..65535, got {value!r}")
    return port


def redact_password(url: str) -> str:
    """`url` with its password (if any) replaced by ***, for logs and error messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()

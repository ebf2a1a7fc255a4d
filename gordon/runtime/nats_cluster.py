"""A 3-node nats-server cluster on loopback (JetStream on each node, routes between them) for tests.

Each node has its own store, log and ports file under `data_dir/<name>`. Route ports must be known
before any node starts (JetStream clustering needs configured routes), so route and client ports are
picked free below the ephemeral range (`stable_port`) and a start that loses the race for one picks
them all again; the monitoring port is chosen by the server (`-1`) and read from its ports file. A
node killed and restarted keeps its client and route ports, so client URLs and the other nodes'
routes stay valid.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import StreamInfo

from gordon.runtime.children import end, spawn
from gordon.runtime.errors import ServerStartError
from gordon.runtime.logs import failure_line, log_size, port_in_use, written_since
from gordon.runtime.nats_server import NAME, nats_server_binary
from gordon.runtime.ports import HOST, stable_port

_START_ATTEMPTS = 5


@dataclass
class ClusterNode:
    """One node: its name (the server name JetStream reports as a leader), dirs and ports."""

    name: str
    data_dir: Path
    route_port: int
    port: int | None = None
    monitor_port: int | None = None
    log_offset: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def ports_dir(self) -> Path:
        return self.data_dir / "ports"

    @property
    def log(self) -> Path:
        return self.data_dir / "nats.log"

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{NAME} {self.name} has never started")
        return f"nats://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class NatsCluster:
    """`size` nats-server nodes named `n1`..`nN` in cluster `name`, JetStream on each."""

    def __init__(self, data_dir: Path, *, size: int = 3, name: str = "gordon", timeout: float = 30.0) -> None:
        if size < 3:
            raise ValueError(f"a JetStream cluster needs at least 3 nodes to survive one loss, got {size}")
        self.data_dir = data_dir.absolute()
        self.name = name
        self.timeout = timeout
        self.nodes = [ClusterNode(f"n{i}", self.data_dir / f"n{i}", 0) for i in range(1, size + 1)]

    @property
    def urls(self) -> list[str]:
        """Client URLs of every node (valid across restarts): give a client all of them."""
        return [node.url for node in self.nodes]

    def node(self, name: str) -> ClusterNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node named {name!r} in cluster {self.name}")

    def start(self) -> NatsCluster:
        """Start every node on fresh route ports; ServerStartError if the cluster cannot start."""
        for attempt in range(1, _START_ATTEMPTS + 1):
            picked: set[int] = set()
            while len(picked) < 2 * len(self.nodes):
                picked.add(stable_port())
            ports = list(picked)
            for i, node in enumerate(self.nodes):
                node.route_port, node.port = ports[2 * i], ports[2 * i + 1]
            try:
                for node in self.nodes:
                    self._spawn(node)
                for node in self.nodes:
                    self._wait_for_ports(node)
                return self
            except ServerStartError as error:
                self.stop()
                if not port_in_use(error.cause) or attempt == _START_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def kill(self, name: str) -> None:
        """SIGKILL one node and reap it: no shutdown, no goodbye to its peers."""
        node = self.node(name)
        process, node.process = node.process, None
        if process is not None:
            end(process, (signal.SIGKILL,), timeout=10.0)

    def restart(self, name: str) -> None:
        """Start a stopped node again with its ports and store: it rejoins and catches up."""
        node = self.node(name)
        if node.running:
            return
        self._spawn(node)
        try:
            self._wait_for_ports(node)
        except BaseException:
            self.kill(name)
            raise

    def stop(self) -> None:
        """SIGTERM every node (SIGKILL after 10 s) and reap them."""
        for node in self.nodes:
            process, node.process = node.process, None
            if process is not None:
                end(process, (signal.SIGTERM, signal.SIGKILL), timeout=10.0)
        atexit.unregister(self.stop)

    def _spawn(self, node: ClusterNode) -> None:
        try:
            node.store_dir.mkdir(parents=True, exist_ok=True)
            node.ports_dir.mkdir(parents=True, exist_ok=True)
            for stale in node.ports_dir.glob("*.ports"):
                stale.unlink()
            binary = nats_server_binary()
        except OSError as error:
            raise ServerStartError(NAME, str(error), node.log) from None
        routes = ",".join(f"nats://{HOST}:{other.route_port}" for other in self.nodes if other is not node)
        argv = [str(binary), "-n", node.name, "-a", HOST, "-p", str(node.port or -1), "-m", "-1"]
        argv += ["--ports_file_dir", str(node.ports_dir), "-js", "-sd", str(node.store_dir)]
        argv += ["--cluster_name", self.name, "--cluster", f"nats://{HOST}:{node.route_port}"]
        argv += ["--routes", routes]
        node.log_offset = log_size(node.log)
        node.process = spawn(argv, log=node.log, death_signal=signal.SIGTERM, cwd=node.data_dir)
        node.monitor_port = None
        atexit.register(self.stop)

    def _wait_for_ports(self, node: ClusterNode) -> None:
        process = node.process
        if process is None:
            raise RuntimeError(f"{NAME} {node.name} is not running")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reported = _reported(node.ports_dir, process.pid)
            if reported is not None:
                node.port = _port_of(reported["nats"][0])
                node.monitor_port = _port_of(reported["monitoring"][0])
                return
            if process.poll() is not None:
                text = written_since(node.log, node.log_offset)
                cause = failure_line(text) or f"exited with code {process.returncode}"
                raise ServerStartError(f"{NAME} {node.name}", cause, node.log)
            time.sleep(0.02)
        raise ServerStartError(f"{NAME} {node.name}", f"no client port after {self.timeout:g} s", node.log)

    def jsz(self, name: str) -> dict[str, Any]:
        """A running node's JetStream monitoring report (`/jsz`)."""
        node = self.node(name)
        if not node.running or node.monitor_port is None:
            raise RuntimeError(f"{NAME} {name} is not running")
        url = f"http://{HOST}:{node.monitor_port}/jsz"
        with urllib.request.urlopen(url, timeout=2.0) as response:
            report: dict[str, Any] = json.loads(response.read())
        return report

    def meta_leader(self) -> str | None:
        """The JetStream meta leader as the running nodes see it, once they agree; else None."""
        seen: set[str] = set()
        for node in self.nodes:
            if not node.running:
                continue
            try:
                leader = self.jsz(node.name).get("meta_cluster", {}).get("leader", "")
            except (OSError, ValueError, urllib.error.URLError):
                return None
            if not leader:
                return None
            seen.add(str(leader))
        return seen.pop() if len(seen) == 1 else None

    def wait_for_meta_leader(self, timeout: float | None = None) -> str:
        """Block until every running node names the same meta leader; returns its name."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            leader = self.meta_leader()
            if leader is not None:
                return leader
            time.sleep(0.1)
        raise TimeoutError(
            f"cluster {self.name} elected no JetStream meta leader in {timeout or self.timeout:g} s"
        )

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


async def stream_leader(js: JetStreamContext, stream: str) -> str | None:
    """The node leading `stream` (stream info's cluster.leader), None while it has none."""
    info = await js.stream_info(stream)
    return info.cluster.leader if info.cluster and info.cluster.leader else None


def replicas_current(info: StreamInfo, size: int) -> bool:
    """Whether the stream has a leader and `size - 1` followers that are all online and current."""
    cluster = info.cluster
    if cluster is None or not cluster.leader:
        return False
    followers = cluster.replicas or []
    return len(followers) == size - 1 and all(r.current and not r.offline for r in followers)


async def wait_until_current(js: JetStreamContext, stream: str, size: int, within_s: float = 30.0) -> str:
    """Poll until `stream` has a leader and every replica is current; returns the leader's name."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    last: StreamInfo | None = None
    while loop.time() < deadline:
        try:
            last = await js.stream_info(stream)
        except (NatsError, TimeoutError, OSError):
            last = None
        if last is not None and replicas_current(last, size) and last.cluster and last.cluster.leader:
            return last.cluster.leader
        await asyncio.sleep(0.1)
    raise TimeoutError(
        f"{stream} replicas not current after {within_s:g} s: {last.cluster if last else None}"
    )


def _reported(ports_dir: Path, pid: int) -> dict[str, list[str]] | None:
    """The ports file `pid` wrote (client, cluster, monitoring URLs), None until it is complete."""
    for ports_file in ports_dir.glob(f"*_{pid}.ports"):
        try:
            reported: dict[str, list[str]] = json.loads(ports_file.read_text())
        except ValueError:
            return None  # still being written
        if reported.get("nats") and reported.get("monitoring"):
            return reported
    return None


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])

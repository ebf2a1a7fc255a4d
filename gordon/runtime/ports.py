"""Free TCP ports on the loopback interface."""

from __future__ import annotations

import random
import socket

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on right now; it may be taken before use, so callers retry."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


BELOW_EPHEMERAL = (20000, 32000)
"""Where `stable_port` looks: under the kernel's ephemeral range (32768 and up by default), which every
`free_port()`, `-p -1` and outgoing connection on the machine draws from."""


def stable_port() -> int:
    """A free port for a server that must come back on the same one after a crash: while it is down,
    nobody else's port 0 or `-1` can be handed that port, as one in the ephemeral range could be."""
    pick = random.SystemRandom()
    for _ in range(100):
        port = pick.randrange(*BELOW_EPHEMERAL)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
        return port
    raise OSError(f"no free port in {BELOW_EPHEMERAL} on {HOST}")

"""`--port 0` picks a free port on the host asked for, IPv6 included; an unusable host is one ServeError."""

from __future__ import annotations

import socket

import pytest

from services.http_server import ServeError, free_port


@pytest.mark.parametrize(("host", "family"), [("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)])
def test_a_free_port_can_be_bound_on_its_host(host: str, family: socket.AddressFamily) -> None:
    port = free_port(host)
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.bind((host, port))


def test_an_unknown_host_is_one_line() -> None:
    with pytest.raises(ServeError, match=r"cannot listen on no-such-host\.invalid"):
        free_port("no-such-host.invalid")

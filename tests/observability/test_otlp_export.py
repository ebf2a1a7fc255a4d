"""Spans leave the process over OTLP/HTTP only when an endpoint is configured: a service process with
OTEL_EXPORTER_OTLP_ENDPOINT set posts its spans there; without it, nothing is exported."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from gordon.paths import ROOT

SPAN = """
from producers import tracing
from services.instrumentation import tracer_provider
provider = tracer_provider()
with tracing.origin("ingest BTCUSDT"):
    print(tracing.current_traceparent())
provider.force_flush()
provider.shutdown()
"""


class Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Collector.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.received = []
    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def run(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SPAN], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_spans_are_posted_to_the_configured_endpoint_and_nowhere_by_default(collector: str) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    traceparent = run(base | {"OTEL_EXPORTER_OTLP_ENDPOINT": collector})
    assert traceparent.startswith("00-")
    assert [path for path, _ in Collector.received] == ["/v1/traces"]
    trace_id = bytes.fromhex(traceparent.split("-")[1])
    assert trace_id in Collector.received[0][1], "the exported span carries the trace id sent on the bus"
    assert b"ingest BTCUSDT" in Collector.received[0][1]

    Collector.received = []
    assert run(base).startswith("00-")  # trace ids still exist for the headers
    assert Collector.received == []

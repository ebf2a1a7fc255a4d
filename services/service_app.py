"""`ServiceApp`: a service's FastStream app with its HTTP routes, FastStream's `AsgiFastStream`.

Routes: `/healthz` (readiness, 200 or 503 naming each failed check), `/metrics` (the service's own
Prometheus registry, with the readiness verdict), `/livez` (FastStream's broker ping). While the app
runs, granian serves them on the service's port without ASGI lifespan events: the app's own start and
stop (by `faststream run` or `gordon up`) own the lifecycle.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from faststream import FastStream
from faststream.asgi import AsgiFastStream, AsgiResponse, get, make_ping_asgi
from faststream.asgi.types import Scope
from faststream.nats import NatsBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from consumers.metrics import registry_of
from services.http_server import HttpServer
from services.readiness import Check, Verdict, evaluate, gauges_of

log = logging.getLogger(__name__)


class ServiceApp(AsgiFastStream):
    """The app of service `name`: FastStream's app for its broker, plus readiness and metrics over HTTP."""

    def __init__(
        self,
        broker: NatsBroker,
        name: str,
        checks: Callable[[], Mapping[str, Check]],
        *,
        host: str,
        port: int,
        serve_http: bool = True,
        on_startup: Sequence[Callable[..., Any]] = (),
        after_shutdown: Sequence[Callable[..., Any]] = (),
    ) -> None:
        self.service_name = name
        self.checks = checks
        self.gauges = gauges_of(name)
        self.http = HttpServer(self, host, port, name=f"{name} HTTP") if serve_http else None
        healthz = get(self._healthz, include_in_schema=False)
        metrics = get(self._metrics, include_in_schema=False)
        livez = make_ping_asgi(broker, timeout=2.0, include_in_schema=False)
        super().__init__(
            broker,
            asgi_routes=[("/healthz", healthz), ("/metrics", metrics), ("/livez", livez)],
            logger=None,
            on_startup=on_startup,
            after_shutdown=after_shutdown,
        )
        self._should_exit = False
        if self.http is not None:
            self.after_startup(self._start_http)
            self.on_shutdown(self._stop_http)

    async def readiness(self) -> Verdict:
        """Run the service's readiness checks and record the verdict in its gauges."""
        verdict = await evaluate(self.checks())
        self.gauges.record(verdict)
        return verdict

    async def _healthz(self, scope: Scope) -> AsgiResponse:
        verdict = await self.readiness()
        body = json.dumps(verdict.as_json()).encode()
        headers = {"content-type": "application/json"}
        return AsgiResponse(body, 200 if verdict.ready else 503, headers)

    async def _metrics(self, scope: Scope) -> AsgiResponse:
        await self.readiness()
        body = generate_latest(registry_of(self.service_name))
        return AsgiResponse(body, 200, {"content-type": CONTENT_TYPE_LATEST})

    async def _start_http(self) -> None:
        assert self.http is not None
        await self.http.start()
        log.info("%s: /healthz and /metrics at %s", self.service_name, self.http.url)

    async def _stop_http(self) -> None:
        if self.http is not None:
            await self.http.stop()

    async def run(
        self, log_level: int = logging.INFO, run_extra_options: dict[str, Any] | None = None
    ) -> None:
        """`faststream run`: run as a plain FastStream app does, until SIGINT or SIGTERM (AsgiFastStream's
        own `run` would start uvicorn; here granian serves the routes from the startup hooks)."""
        await FastStream.run(self, log_level, run_extra_options)  # type: ignore[arg-type]

    def exit(self) -> None:
        """Stop `run` (FastStream's signal handler calls this)."""
        self._should_exit = True

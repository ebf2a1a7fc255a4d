"""The platform running in one loop with every service's HTTP port known up front, and helpers to read
what those ports serve: `/healthz` as JSON, `/metrics` parsed into samples."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gordon.platform import workers_metrics
from services.http_server import free_port, url_of
from settings.environment import SERVICE_PORTS, WORKERS_PORT, port_variable
from tests.services.platform_harness import Options, Platform

HOST = "127.0.0.1"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Observed:
    """A running platform and where each service (and the workers' metrics) listens."""

    platform: Platform
    urls: dict[str, str]

    async def health(self, name: str) -> tuple[int, dict[str, object]]:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{self.urls[name]}/healthz")
        return answer.status_code, answer.json()

    async def metrics(self, name: str) -> Samples:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{self.urls[name]}/metrics")
        assert answer.status_code == 200, answer.text
        return parse(answer.text)


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text page, by name and label set."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The sample `name` with exactly these labels (None when it is not on the page)."""
    return samples.get((name, frozenset(labels.items())))


def matching(samples: Samples, name: str, **labels: str) -> list[float]:
    """Every sample `name` whose labels include these."""
    want = set(labels.items())
    return [v for (n, ls), v in samples.items() if n == name and want <= ls]


@asynccontextmanager
async def observed_platform(
    monkeypatch: pytest.MonkeyPatch, nats_url: str, database: str, options: Options | None = None
) -> AsyncIterator[Observed]:
    """The harness's platform with fixed free ports (so the manager knows its peers) and the workers'
    `/metrics` served as `gordon up` serves it."""
    urls = {}
    for name in SERVICE_PORTS:
        port = free_port(HOST)
        monkeypatch.setenv(port_variable(name), str(port))
        urls[name] = url_of(HOST, port)
    workers_port = free_port(HOST)
    monkeypatch.setenv(WORKERS_PORT, str(workers_port))
    urls["workers"] = url_of(HOST, workers_port)
    workers = asyncio.create_task(workers_metrics(HOST, workers_port)(None))  # type: ignore[arg-type]
    platform = Platform(nats_url, database, options or Options())
    try:
        await platform.start()
        yield Observed(platform, urls)
    finally:
        await platform.stop()
        workers.cancel()
        await asyncio.gather(workers, return_exceptions=True)

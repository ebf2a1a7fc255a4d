"""GET /metrics: the manager's own Prometheus registry in the text format, with this API's request counts
by route template (never the raw path, so an id in the URL adds no series)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from registry.ids import uuid7
from tests.manager_api.conftest import Api


def requests_by_route(text: str) -> dict[tuple[str, str, str], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        if family.name == "gordon_manager_http_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    labels = sample.labels
                    found[(labels["route"], labels["method"], labels["status"])] = sample.value
    return found


async def test_metrics_count_requests_by_route_template(api: Api) -> None:
    before = requests_by_route((await api.get("/metrics")).text)
    for _ in range(2):
        assert (await api.get(f"/orders/{uuid7()}")).status_code == 404
    assert (await api.get("/nowhere")).status_code == 404
    r = await api.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    after = requests_by_route(r.text)
    key = ("/orders/{orderId}", "GET", "404")
    assert after[key] - before.get(key, 0) == 2
    assert after[("unmatched", "GET", "404")] - before.get(("unmatched", "GET", "404"), 0) == 1
    assert "gordon_outbox_backlog" in r.text  # the platform as the manager sees it
    assert "gordon_events_published" not in r.text  # the drain's series are the workers', not the manager's

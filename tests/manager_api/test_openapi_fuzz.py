"""schemathesis against the app's OpenAPI document: every operation, generated valid and invalid
inputs, with the operator token, over HTTP to the app served by granian; no 5xx, and every response
matches its documented status, content type and schema. Bounded (max_examples) to run in well under a
minute; one served app (one database clone) for the module.

The schema comes from `create_app(...).openapi()` (what /openapi.json serves, checked by a test below):
schemathesis' lazy `from_fixture` loader does not work under pytest 9.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.case import Case

from services.manager.api import ApiDeps, create_app
from settings.dsn import with_database
from tests.conftest import _drop, execute, run_sync, unique_name
from tests.manager_api.background import background_api
from tests.manager_api.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPENAPI = create_app(
    ApiDeps(database_url="postgresql://unused@localhost/none", nats_url="nats://localhost")
).openapi()

schema = schemathesis.openapi.from_dict(copy.deepcopy(OPENAPI))  # schemathesis adds inferred links to it


@pytest.fixture(scope="module")
def served(admin_dsn: str, template_database: str, nats_url: str) -> Iterator[str]:
    """A migrated database clone for the module and the app served over it; yields the base URL."""
    name = unique_name("test_fuzz")
    run_sync(
        execute(admin_dsn, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}" STRATEGY FILE_COPY')
    )
    try:
        with background_api(with_database(admin_dsn, name), nats_url) as url:
            yield url
    finally:
        _drop(admin_dsn, name)


def test_the_served_document_is_the_one_fuzzed(served: str) -> None:
    r = requests.get(served + "/openapi.json", timeout=10)
    assert r.status_code == 200
    assert r.json() == json.loads(json.dumps(OPENAPI))


@pytest.mark.timeout(120)
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_documented(case: Case, served: str) -> None:
    case.call_and_validate(base_url=served, headers=AUTH)


class Links(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences that follow the document's links: a page of orders to an order and its bot's positions,
    a flatten to the latch and to a resume."""

    base_url = ""

    def get_call_kwargs(self, case: Case) -> dict[str, Any]:
        return {"base_url": self.base_url, "headers": AUTH}


@pytest.mark.timeout(120)
def test_linked_sequences_answer_as_documented(served: str) -> None:
    Links.base_url = served
    Links.run(settings=settings(max_examples=15, stateful_step_count=4, deadline=None))

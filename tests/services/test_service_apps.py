"""Every service named in the AsyncAPI document (`x-gordon-app`) is a package whose `app` is built on
first access from the environment: importing it needs none, `faststream run` gets a clear error."""

from __future__ import annotations

import importlib

import pytest
import yaml

from gordon import paths
from registry.subject import Service
from services.runtime import NotConfigured

APPS = sorted({s.app for s in Service})


def test_the_asyncapi_document_names_each_service_app() -> None:
    document = yaml.safe_load((paths.ROOT / "asyncapi.yaml").read_text())
    named = {op["x-gordon-app"] for op in document["operations"].values()}
    assert named == set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_app_is_built_on_first_access_from_the_environment(app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GORDON_NATS_URL", raising=False)
    monkeypatch.delenv("GORDON_DATABASE_URL", raising=False)
    package, _, attribute = app.partition(":")
    module = importlib.import_module(package)
    with pytest.raises(NotConfigured, match="GORDON_NATS_URL is not set"):
        getattr(module, attribute)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = module.nothing

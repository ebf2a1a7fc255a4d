"""The AsyncAPI 3.0 document of the registry: every subject as a channel, every version as a message."""

from __future__ import annotations

from registry.asyncapi.document import ASYNCAPI_VERSION, DEFAULT_NATS_HOST, build
from registry.asyncapi.yaml_io import HEADER, check, render, write

__all__ = ["ASYNCAPI_VERSION", "DEFAULT_NATS_HOST", "HEADER", "build", "check", "render", "write"]

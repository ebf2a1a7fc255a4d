"""What every service's broker is instrumented with: FastStream's OpenTelemetry middleware (extracts
the `traceparent` header, so a handler's writes continue the trace) and its Prometheus middleware
(received messages, sizes, in-flight, handler duration histograms) into the service's own registry.

Labels name the subject *template* (`trading.fills.{bot_id}`), not the concrete subject: FastStream's
NATS provider labels by concrete subject, one series per bot and symbol, so ours maps it first.
Spans are exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set;
otherwise they exist for their ids and are dropped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from typing import Any

from faststream._internal.middlewares import BaseMiddleware
from faststream.message.message import StreamMessage
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus.provider import NatsMetricsSettingsProvider
from faststream.prometheus import ConsumeAttrs
from faststream.prometheus.middleware import PrometheusMiddleware
from faststream.response import PublishCommand
from nats.aio.msg import Msg
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from consumers.metrics import registry_of
from producers.metrics import template_of

OTLP_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


@cache
def tracer_provider() -> TracerProvider:
    """The process's SDK tracer provider, set once as the global one (every service of a `gordon up`
    shares it); with an OTLP endpoint configured, spans are batched out over OTLP/HTTP."""
    provider = TracerProvider(resource=Resource.create({"service.namespace": "gordon"}))
    if any(os.environ.get(name, "").strip() for name in OTLP_ENDPOINTS):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


class _TemplateMetrics(NatsMetricsSettingsProvider):
    """FastStream's NATS metrics attributes, with the subject template as the destination."""

    def get_consume_attrs_from_message(self, msg: StreamMessage[Msg]) -> ConsumeAttrs:
        attrs = super().get_consume_attrs_from_message(msg)
        attrs["destination_name"] = template_of(attrs["destination_name"])
        return attrs

    def get_publish_destination_name_from_cmd(self, cmd: PublishCommand) -> str:
        return template_of(cmd.destination)


def _template_metrics(msg: Any) -> _TemplateMetrics:
    return _TemplateMetrics()


def middlewares(service: str) -> Sequence[type[BaseMiddleware] | Any]:
    """The broker middlewares of `service`: tracing outermost, so the handler's duration is inside its
    span; Prometheus series go to the service's registry with `app_name` = the service."""
    return (
        NatsTelemetryMiddleware(tracer_provider=tracer_provider()),
        PrometheusMiddleware(
            settings_provider_factory=_template_metrics,
            registry=registry_of(service),
            app_name=service,
        ),
    )

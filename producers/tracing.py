"""W3C trace context on the bus: the `traceparent` of the caller's current span, stored with an outbox
row and sent by the drain as a header, and a span to start a trace where an event begins.

The consume side extracts the header with FastStream's OpenTelemetry middleware (on every service's
broker), so a handler's `publish_within` continues the trace of the event it handles: one kline, the
intent it triggers, the order and the fill share one trace id.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER = trace.get_tracer("gordon")


def current_traceparent() -> str | None:
    """The `traceparent` of the current span (None outside any recording or remote span)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id inside a `traceparent` value (None when it is not one)."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


@contextmanager
def origin(name: str) -> Iterator[None]:
    """A new trace for work that starts here (a kline ingested, an operator's request); events written
    inside it carry its `traceparent`."""
    with _TRACER.start_as_current_span(name, kind=trace.SpanKind.PRODUCER):
        yield

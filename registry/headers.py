"""Header names every bus message carries (the platform's wire format: `Gordon-` prefixed)."""

from __future__ import annotations

MSG_ID = "Nats-Msg-Id"
SCHEMA = "Gordon-Schema"
SOURCE = "Gordon-Source"
TRACE_ID = "traceparent"
"""The W3C trace context of the producer's span (https://www.w3.org/TR/trace-context/)."""
ACTOR = "Gordon-Actor"
"""Who acted, on events an operator initiated."""
CONTENT_TYPE = "Content-Type"
JSON = "application/json"

DLQ_SUBJECT = "Gordon-Dlq-Subject"
DLQ_STREAM = "Gordon-Dlq-Stream"
DLQ_SEQUENCE = "Gordon-Dlq-Sequence"
DLQ_CONSUMER = "Gordon-Dlq-Consumer"
DLQ_DELIVERIES = "Gordon-Dlq-Deliveries"
DLQ_REASON = "Gordon-Dlq-Reason"
DLQ_AT_MS = "Gordon-Dlq-At-Ms"
DLQ_TRUNCATED = "Gordon-Dlq-Truncated"
"""On a dead letter whose payload did not fit the server's max_payload: the original size in bytes."""

_STATUS_LINE = len(b"NATS/1.0\r\n") + len(b"\r\n")


def wire_size(payload: bytes, headers: dict[str, str] | None) -> int:
    """Bytes a message takes against the server's max_payload: the payload plus its header block.

    nats-py only checks the payload; the server counts both and closes the connection when they exceed it.
    """
    if not headers:
        return len(payload)
    block = sum(len(k.encode()) + len(v.encode()) + 4 for k, v in headers.items())
    return len(payload) + _STATUS_LINE + block

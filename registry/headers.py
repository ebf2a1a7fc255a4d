"""Header names every bus message carries (seed 002 wire format, Gordon- prefix)."""

from __future__ import annotations

MSG_ID = "Nats-Msg-Id"
SCHEMA = "Gordon-Schema"
SOURCE = "Gordon-Source"
TRACE_ID = "Gordon-Trace-Id"
CONTENT_TYPE = "Content-Type"
JSON = "application/json"

DLQ_SUBJECT = "Gordon-Dlq-Subject"
DLQ_STREAM = "Gordon-Dlq-Stream"
DLQ_SEQUENCE = "Gordon-Dlq-Sequence"
DLQ_CONSUMER = "Gordon-Dlq-Consumer"
DLQ_DELIVERIES = "Gordon-Dlq-Deliveries"
DLQ_REASON = "Gordon-Dlq-Reason"
DLQ_AT_MS = "Gordon-Dlq-At-Ms"

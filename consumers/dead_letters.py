"""Dead letters: what a consumer could not handle goes to the `gordon-dlq` stream with its reason."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from nats.js import JetStreamContext

from registry import headers as h


@dataclass(frozen=True)
class DeadLetter:
    """A message a consumer gave up on: where it came from, its bytes and headers, and why."""

    subject: str
    data: bytes
    headers: Mapping[str, str]
    stream: str
    sequence: int
    consumer: str
    deliveries: int
    reason: str


def dead_letter_subject(consumer: str) -> str:
    """The DLQ subject of a durable consumer (`dlq.<durable>`)."""
    return f"dlq.{consumer}"


async def send_dead_letter(js: JetStreamContext, letter: DeadLetter) -> None:
    """Store `letter` in the dead-letter stream; idempotent per (message, consumer) via its Msg-Id."""
    original_id = letter.headers.get(h.MSG_ID) or f"{letter.stream}:{letter.sequence}"
    # One ASCII line: nats-py reads a non-ASCII header value back as an email Header object, not a str.
    reason = " ".join(letter.reason.split()).encode("ascii", "backslashreplace").decode()[:1000]
    # The original's Msg-Id and publish expectations (Nats-Expected-Stream, ...) are about its own stream:
    # copied onto the letter, the server would refuse it and the message could never be set aside.
    kept = {k: v for k, v in letter.headers.items() if k != h.MSG_ID and not k.startswith("Nats-Expected-")}
    headers = {
        **kept,
        h.MSG_ID: f"{original_id}:{letter.consumer}",
        h.DLQ_SUBJECT: letter.subject,
        h.DLQ_STREAM: letter.stream,
        h.DLQ_SEQUENCE: str(letter.sequence),
        h.DLQ_CONSUMER: letter.consumer,
        h.DLQ_DELIVERIES: str(letter.deliveries),
        h.DLQ_REASON: reason,
        h.DLQ_AT_MS: str(time.time_ns() // 1_000_000),
    }
    data = letter.data
    if h.wire_size(data, headers) > js._nc.max_payload:
        # The original stays in its stream at (stream, sequence); the letter keeps the reason and the size.
        headers[h.DLQ_TRUNCATED] = str(len(data))
        headers[h.DLQ_REASON] = f"{reason[:900]} (payload of {len(data)} bytes not copied: over max_payload)"
        data = b""
    await js.publish(dead_letter_subject(letter.consumer), data, headers=headers)

"""Read and replay the dead-letter stream: what `gordon dlq list` and `gordon dlq replay` run."""

from __future__ import annotations

import time
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from registry import headers as h
from registry.dead_letters import dead_letter_subject
from schemas.streams import ALL

REPLAY_OF = "Gordon-Replay-Of"
"""Header of a replayed message: the Nats-Msg-Id it had when it was first published."""

_LETTER_HEADERS = {
    h.DLQ_SUBJECT,
    h.DLQ_STREAM,
    h.DLQ_SEQUENCE,
    h.DLQ_CONSUMER,
    h.DLQ_DELIVERIES,
    h.DLQ_REASON,
    h.DLQ_AT_MS,
}


class LetterNotFoundError(LookupError):
    """No dead letter at a sequence (never stored, already replayed or aged out)."""


@dataclass(frozen=True)
class StoredLetter:
    """A dead letter as the DLQ stream holds it: its own sequence, and the original message."""

    seq: int
    consumer: str
    subject: str
    stream: str
    stream_seq: int
    deliveries: int
    reason: str
    at_ms: int
    msg_id: str
    data: bytes
    headers: dict[str, str]

    def age_s(self, now_ms: int | None = None) -> float:
        now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        return max(now - self.at_ms, 0) / 1000.0


@dataclass(frozen=True)
class Replayed:
    """What a replay did: the letter, its new Msg-Id and where the copy landed."""

    letter: StoredLetter
    msg_id: str
    stream: str
    stream_seq: int


def parse_letter(msg: RawStreamMsg) -> StoredLetter:
    """A `StoredLetter` from a DLQ stream message (written by `send_dead_letter`)."""
    headers = dict(msg.headers or {})
    consumer = headers.get(h.DLQ_CONSUMER, "")
    stream = headers.get(h.DLQ_STREAM, "")
    stream_seq = _int(headers.get(h.DLQ_SEQUENCE))
    stored_id = headers.get(h.MSG_ID, "")
    # send_dead_letter stores `<original id>:<consumer>` so one message may fail in several consumers.
    original_id = stored_id.removesuffix(f":{consumer}") if consumer else stored_id
    return StoredLetter(
        seq=msg.seq or 0,
        consumer=consumer,
        subject=headers.get(h.DLQ_SUBJECT, ""),
        stream=stream,
        stream_seq=stream_seq,
        deliveries=_int(headers.get(h.DLQ_DELIVERIES)),
        reason=headers.get(h.DLQ_REASON, ""),
        at_ms=_int(headers.get(h.DLQ_AT_MS)),
        msg_id=original_id or f"{stream}:{stream_seq}",
        data=msg.data or b"",
        headers={k: v for k, v in headers.items() if k not in _LETTER_HEADERS and k != h.MSG_ID},
    )


def _landing(stream: str) -> str | None:
    """Where a replay is published: the letter's stream, or for a letter from a sourced stream (a
    projection runner's, from the history) the stream it sources from, which takes publishes."""
    source = next((spec.sources_from for spec in ALL if spec.name == stream), None)
    return source or stream or None


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


async def read_letter(js: JetStreamContext, dlq: str, seq: int) -> StoredLetter:
    """The dead letter at `seq` of stream `dlq`, or LetterNotFoundError."""
    try:
        return parse_letter(await js.get_msg(dlq, seq))
    except NotFoundError:
        raise LetterNotFoundError(f"no dead letter at sequence {seq} in {dlq}") from None


async def read_letters(
    js: JetStreamContext, dlq: str, consumer: str | None = None, limit: int | None = None
) -> list[StoredLetter]:
    """Dead letters oldest first, of one consumer or all, at most `limit` of them."""
    subject = dead_letter_subject(consumer) if consumer else "dlq.>"
    letters: list[StoredLetter] = []
    seq = 1
    while limit is None or len(letters) < limit:
        try:
            msg = await js.get_msg(dlq, seq, subject=subject, next=True)
        except NotFoundError:
            break
        letters.append(parse_letter(msg))
        seq = (msg.seq or seq) + 1
    return letters


async def replay(js: JetStreamContext, dlq: str, letter: StoredLetter) -> Replayed:
    """Publish the letter's original payload and headers to its original subject, then delete the letter.

    The copy gets the Msg-Id `<original>:replay:<dlq seq>`: the original would be dropped as a
    duplicate inside the stream's duplicate window. `Gordon-Replay-Of` keeps the original id; consumers
    stay idempotent by event id (the payload is unchanged), e.g. through the inbox.
    """
    if not letter.subject:
        raise LetterNotFoundError(f"dead letter {letter.seq} in {dlq} names no original subject")
    if h.DLQ_TRUNCATED in letter.headers:
        raise LetterNotFoundError(
            f"dead letter {letter.seq} in {dlq} holds no payload (it had {letter.headers[h.DLQ_TRUNCATED]} "
            f"bytes, over max_payload); the original is {letter.stream} seq {letter.stream_seq}"
        )
    msg_id = f"{letter.msg_id}:replay:{letter.seq}"
    headers = {**letter.headers, h.MSG_ID: msg_id, REPLAY_OF: letter.msg_id}
    ack = await js.publish(letter.subject, letter.data, stream=_landing(letter.stream), headers=headers)
    await js.delete_msg(dlq, letter.seq)
    return Replayed(letter, msg_id, ack.stream, ack.seq)

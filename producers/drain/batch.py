"""Fast-ingest batch publishing (ADR-50; nats-server 2.14+, a stream with `allow_batched`) on nats-py's
core publish: the server acks every `flow` messages instead of each one, which lifts the drain past the
per-message ack ceiling.

nats-py has no batch API, so this speaks the protocol itself. Each message's reply subject carries the
batch: `<inbox>.<flow>.fail.<seq>.<op>.$FI` (the inbox's last token is the batch id; op 0 starts, 1 adds,
2 commits with the message). The server answers on the inbox with `{"type":"ack","seq":N}` once messages
1..N are stored, `{"type":"err"|"gap",...}` when a message is refused or missing, and a final pub ack
whose `count` is how many messages of the batch are stored, in order. With gap mode `fail` the server
stops the batch at a hole or a refused message, so the stored prefix is exactly `count`. Nats-Msg-Id
dedup applies to every message (measured on 2.15: a resent batch stores nothing twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import count

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.js.api import Header

from producers.drain.pipeline import PERMANENT_CODES, BatchResult, Failure, Flight, headers_of
from producers.drain.store import Row
from registry.headers import wire_size

log = logging.getLogger("gordon.drain")

Publish = Callable[[str, bytes, str, dict[str, str]], Awaitable[None]]
"""Core publish of one message: subject, payload, reply subject, headers (nats-py `publish` shape)."""

OP_START, OP_ADD, OP_COMMIT, OP_PING = 0, 1, 2, 4
EXPECTED_STREAM = Header.EXPECTED_STREAM.value
SLACK = 1024
"""Bytes that cover the fixed headers (names, event id, schema, source, content type, stream): a row
whose payload, stored headers and trace id leave this much room under max_payload needs no exact count."""
BATCH_DISABLED = 10205
"""err_code of a pub ack refusing any batch: the stream lacks `allow_batched`."""
BATCH_ERRORS = frozenset({BATCH_DISABLED, 10206, 10207, 10208})
"""err_codes about the batch itself (disabled, bad reply pattern, bad or unknown id), not about a row."""
MIN_SERVER = (2, 14)


class BatchUnsupported(Exception):
    """The server or stream refuses fast batches: the drain goes back to per-message publishing."""


@dataclass
class BatchFlight(Flight):
    """A fast batch whose messages have been sent: the server's acks arrive on `inbox`."""

    inbox: str = ""
    acked: int = 0
    sent: int = 0
    refused: dict[int, Failure] = field(default_factory=dict)
    gap_at: int | None = None
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Future[dict[str, object]] | None = None


@dataclass(frozen=True)
class Prepared:
    """A batch's rows with their wire headers, and the over-size row that ends it early, if any."""

    rows: list[Row]
    sendable: list[tuple[Row, dict[str, str]]]
    failure: Failure | None


class FastBatches:
    """Publishes rows as fast batches over one client; one wildcard subscription serves every batch."""

    def __init__(
        self,
        nats: NatsClient,
        stream: str,
        *,
        flow: int,
        window: int,
        ack_timeout_s: float,
        publish: Publish | None = None,
    ) -> None:
        self.nats = nats
        self.stream = stream
        self.flow = flow
        self.window = window
        self.ack_timeout_s = ack_timeout_s
        self._publish = publish or nats.publish
        self._prefix = nats.new_inbox()
        self._ids = count(1)
        self._flights: dict[str, BatchFlight] = {}
        self._sub: Subscription | None = None

    async def start(self) -> None:
        """Subscribe to the batch acks (once per leader term)."""
        self._sub = await self.nats.subscribe(self._prefix + ".>", cb=self._on_frame)

    async def stop(self) -> None:
        """Drop the subscription; batches still in the air are resent (deduplicated) by the next term."""
        sub, self._sub = self._sub, None
        self._flights.clear()
        if sub is not None:
            with contextlib.suppress(NatsError, OSError):
                await sub.unsubscribe()

    def prepare(self, rows: list[Row]) -> Prepared:
        """Each row's headers, up to the first row over max_payload (refused here: the server would close
        the connection over it, and every resend would too). The drain prepares the next batch while the
        current one lands."""
        out: list[tuple[Row, dict[str, str]]] = []
        limit = self.nats.max_payload
        for row in rows:
            headers = headers_of(row)
            headers[EXPECTED_STREAM] = self.stream
            small = len(row.payload) + len(row.extra_headers) + len(row.trace_id or "") + SLACK <= limit
            if not small and wire_size(row.payload, headers) > limit:
                return Prepared(
                    rows, out, Failure(row, "payload exceeds the server's max_payload", True, True)
                )
            out.append((row, headers))
        return Prepared(rows, out, None)

    async def launch(self, rows: list[Row], prepared: Prepared | None = None) -> BatchFlight:
        """Send `rows` as one batch, waiting only when `flow * window` messages are unacknowledged."""
        batch_id = f"b{next(self._ids)}"
        loop = asyncio.get_running_loop()
        flight = BatchFlight(rows, [], inbox=f"{self._prefix}.{batch_id}", done=loop.create_future())
        if prepared is None or prepared.rows is not rows:
            prepared = self.prepare(rows)
        sendable, flight.failure = prepared.sendable, prepared.failure
        self._flights[batch_id] = flight
        reply = f"{flight.inbox}.{self.flow}.fail."
        last = len(sendable)
        for seq, (row, headers) in enumerate(sendable, 1):
            if flight.done is not None and flight.done.done():
                break  # the server ended the batch early (a refused row or a hole): stop sending
            if seq > flight.acked + self.flow * self.window and not await self._stalled(flight, seq):
                flight.failure = _inexact(row, f"no batch flow ack within {self.ack_timeout_s}s", False)
                break
            op = OP_COMMIT if seq == last else OP_START if seq == 1 else OP_ADD
            try:
                await self._publish(row.subject, row.payload, f"{reply}{seq}.{op}.$FI", headers)
            except (NatsError, OSError, TimeoutError) as exc:
                flight.failure = _inexact(row, f"publish: {type(exc).__name__}: {exc}", False)
                break
            flight.sent = seq
        return flight

    async def land(self, flight: BatchFlight) -> BatchResult:
        """Await the batch's final ack: the stored prefix (exactly `count` rows) and what stopped it."""
        try:
            return await self._land(flight)
        finally:
            self._flights.pop(flight.inbox.rsplit(".", 1)[-1], None)

    async def _land(self, flight: BatchFlight) -> BatchResult:
        final: dict[str, object] | None = None
        if flight.sent and flight.done is not None:
            try:
                final = await asyncio.wait_for(asyncio.shield(flight.done), self.ack_timeout_s)
            except TimeoutError:
                final = None
        if final is None:
            stored = flight.acked
            failure = flight.failure
            if flight.sent and failure is None:
                failure = _inexact(flight.rows[stored], f"no batch ack within {self.ack_timeout_s}s", False)
            return BatchResult(
                stored=flight.rows[:stored], failure=failure if stored < len(flight.rows) else None
            )
        error = final.get("error")
        if isinstance(error, dict):
            code = int(error.get("err_code") or 0)
            if code == BATCH_DISABLED:
                raise BatchUnsupported(str(error.get("description")))
            stored = flight.acked
            row = flight.rows[stored]
            if stored + 1 in flight.refused:
                return BatchResult(stored=flight.rows[:stored], failure=flight.refused[stored + 1])
            if stored == 0 and code not in BATCH_ERRORS:  # the first message itself was refused
                return BatchResult(failure=_refusal(row, error))
            return BatchResult(stored=flight.rows[:stored], failure=_inexact(row, _describe(error), False))
        stored = int(str(final.get("count") or 0))
        if stored >= flight.sent:
            return BatchResult(stored=flight.rows[: flight.sent], failure=flight.failure)
        row = flight.rows[stored]
        if stored + 1 in flight.refused:  # the server names the refused row and stored exactly those before
            return BatchResult(stored=flight.rows[:stored], failure=flight.refused[stored + 1])
        why = "missing on the server (a gap)" if flight.gap_at is not None else "not stored"
        reason = f"batch ended by the server after {stored} of {flight.sent}: row {why}"
        return BatchResult(stored=flight.rows[:stored], failure=_inexact(row, reason, False))

    async def _stalled(self, flight: BatchFlight, seq: int) -> bool:
        """Wait for a flow ack that lets message `seq` go; ping the server for a lost ack meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ack_timeout_s
        while seq > flight.acked + self.flow * self.window:
            if flight.done is not None and flight.done.done():
                return True  # the batch is over; the caller notices and stops
            left = deadline - loop.time()
            if left <= 0:
                return False
            flight.progress.clear()
            try:
                await asyncio.wait_for(flight.progress.wait(), min(left, self.ack_timeout_s / 3))
            except TimeoutError:
                ping = f"{flight.inbox}.{self.flow}.fail.{flight.sent}.{OP_PING}.$FI"
                row = flight.rows[0]
                try:
                    await self._publish(row.subject, b"", ping, {})
                except (NatsError, OSError, TimeoutError):
                    return False
        return True

    async def _on_frame(self, msg: Msg) -> None:
        batch_id = msg.subject[len(self._prefix) + 1 :].split(".", 1)[0]
        flight = self._flights.get(batch_id)
        if flight is None or flight.done is None or flight.done.done():
            return
        try:
            frame = json.loads(msg.data)
        except ValueError:
            log.warning("drain: unreadable batch ack on %s: %r", msg.subject, msg.data[:200])
            return
        if not isinstance(frame, dict):
            return
        kind = frame.get("type")
        if kind == "ack":
            flight.acked = max(flight.acked, int(frame.get("seq") or 0))
            flight.progress.set()
        elif kind == "err":
            error = frame.get("error")
            seq = int(frame.get("seq") or 0)
            if 0 < seq <= len(flight.rows):
                flight.refused[seq] = _refusal(flight.rows[seq - 1], error if isinstance(error, dict) else {})
        elif kind == "gap":
            flight.gap_at = int(frame.get("last_seq") or 0)
        elif kind is None:
            flight.done.set_result(frame)
            flight.progress.set()


def _describe(error: dict[str, object]) -> str:
    return f"rejected by JetStream: {error.get('description')} (err_code {error.get('err_code')})"


def _refusal(row: Row, error: dict[str, object]) -> Failure:
    """The server refused this row itself: counted, and quarantined once permanent or refused too often."""
    code = int(str(error.get("err_code") or 0))
    return Failure(row, _describe(error), True, code in PERMANENT_CODES)


def _inexact(row: Row, reason: str, rejected: bool) -> Failure:
    """A batch failure: the row is known, but the per-message path decides whether to quarantine it."""
    return Failure(row, reason, rejected, False, exact=False)


def supported(nats: NatsClient) -> bool:
    """Whether the connected server is new enough for fast batches (2.14+)."""
    version = nats.connected_server_version
    try:
        return (version.major, version.minor) >= MIN_SERVER
    except (TypeError, ValueError, AttributeError):
        return False

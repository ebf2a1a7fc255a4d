"""Publish a batch of outbox rows pipelined, and learn which prefix of it JetStream stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError
from nats.js.api import PubAck
from nats.js.errors import APIError

from producers.drain.store import Row
from producers.envelope import wire_headers

Send = Callable[[str, bytes, dict[str, str]], Awaitable["asyncio.Future[PubAck]"]]
"""Starts one publish and returns the future of its ack (nats-py `publish_async` shape)."""

PERMANENT_CODES = frozenset({10054})
"""JetStream error codes that no retry can fix (10054: message size exceeds the stream's maximum)."""


@dataclass(frozen=True)
class Failure:
    """Why the batch stopped at `row`: `rejected` when the server refused that message itself; not
    `exact` when a fast batch cannot tell for sure (the per-message path then resends and decides)."""

    row: Row
    reason: str
    rejected: bool
    permanent: bool
    exact: bool = True


@dataclass
class BatchResult:
    """The rows stored in order before the first failure, how many were duplicates, and the failure."""

    stored: list[Row] = field(default_factory=list)
    duplicates: int = 0
    failure: Failure | None = None


def headers_of(row: Row) -> dict[str, str]:
    """NATS headers of a row: Msg-Id = event id, schema, source, trace, plus any extra ones stored."""
    headers = wire_headers(row.event_id, row.schema_name, row.schema_version, row.producer, row.trace_id)
    if row.extra_headers != "{}":
        headers.update({str(k): str(v) for k, v in json.loads(row.extra_headers).items()})
    return headers


@dataclass
class Flight:
    """A batch whose publishes have all been started; `failure` is set when a send itself failed."""

    rows: list[Row]
    futures: list[asyncio.Future[PubAck]]
    failure: Failure | None = None


async def launch(send: Send, rows: list[Row]) -> Flight:
    """Start publishing `rows` in order without waiting for any ack."""
    flight = Flight(rows, [])
    for row in rows:
        try:
            flight.futures.append(await send(row.subject, row.payload, headers_of(row)))
        except MaxPayloadError:
            flight.failure = Failure(row, "payload exceeds the server's max_payload", True, True)
            break
        except (NatsError, OSError, TimeoutError) as exc:
            flight.failure = Failure(row, f"publish: {type(exc).__name__}: {exc}", False, False)
            break
    return flight


async def land(flight: Flight, timeout_s: float) -> BatchResult:
    """Await a flight's acks in order: the prefix stored before the first failure, and that failure.

    Only that prefix may be marked: the caller publishes again from the failed row (rows after it
    that were stored come back as duplicates, which JetStream drops by Msg-Id).
    """
    result = BatchResult(failure=flight.failure)
    futures = flight.futures
    if futures:
        await asyncio.wait(futures, timeout=timeout_s)
    for row, future in zip(flight.rows, futures, strict=False):
        failure = _failure_of(row, future, timeout_s)
        if failure is not None:
            result.failure = failure
            break
        result.stored.append(row)
        result.duplicates += bool(future.result().duplicate)
    for future in futures[len(result.stored) :]:
        if not future.done():
            future.cancel()
    return result


def _failure_of(row: Row, future: asyncio.Future[PubAck], timeout_s: float) -> Failure | None:
    if not future.done():
        return Failure(row, f"no ack within {timeout_s}s", False, False)
    if future.cancelled():
        return Failure(row, "ack abandoned by the client (connection lost)", False, False)
    error = future.exception()
    if error is None:
        return None
    if isinstance(error, APIError):
        code = error.err_code or 0
        reason = f"rejected by JetStream: {error.description} (err_code {code})"
        return Failure(row, reason, True, code in PERMANENT_CODES)
    return Failure(row, f"ack: {type(error).__name__}: {error}", False, False)

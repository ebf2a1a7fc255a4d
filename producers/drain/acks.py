"""Per-message JetStream publishes whose acks the drain reads itself, on its own reply inbox.

nats-py 2.16's `publish_async` builds the error of a refused message with `APIError.from_error`, which
raises inside its reply handler: the future is never failed, so a refusal looks like a lost ack and the
row is retried forever instead of quarantined. Here a refusal fails the row's future with its JetStream
error, which the drain counts and, when permanent or repeated, quarantines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from itertools import count

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError
from nats.js.api import Header, PubAck
from nats.js.errors import APIError, NoStreamResponseError

from registry.headers import wire_size

NO_RESPONDERS = "503"


class PubAcks:
    """Publishes one message at a time and hands back the future of its ack (the `Send` shape)."""

    def __init__(self, nats: NatsClient, stream: str) -> None:
        self.nats = nats
        self.stream = stream
        self._prefix = nats.new_inbox()
        self._ids = count(1)
        self._futures: dict[str, asyncio.Future[PubAck]] = {}
        self._sub: Subscription | None = None

    async def start(self) -> None:
        """Subscribe to the acks (once per leader term)."""
        self._sub = await self.nats.subscribe(self._prefix + ".*", cb=self._on_ack)

    async def stop(self) -> None:
        """Drop the subscription and abandon the acks still awaited (their rows are resent)."""
        sub, self._sub = self._sub, None
        for future in self._futures.values():
            if not future.done():
                future.cancel()
        self._futures.clear()
        if sub is not None:
            with contextlib.suppress(NatsError, OSError):
                await sub.unsubscribe()

    async def send(self, subject: str, payload: bytes, headers: dict[str, str]) -> asyncio.Future[PubAck]:
        """Start one publish; its future resolves to the pub ack or fails with the server's refusal.

        Over max_payload with its headers, the server would close the connection (and again on every
        resend), so such a row is refused here and quarantined instead."""
        wire = {**headers, Header.EXPECTED_STREAM.value: self.stream}
        if wire_size(payload, wire) > self.nats.max_payload:
            raise MaxPayloadError
        token = str(next(self._ids))
        future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
        self._futures[token] = future
        future.add_done_callback(lambda _: self._futures.pop(token, None))
        try:
            await self.nats.publish(subject, payload, reply=f"{self._prefix}.{token}", headers=wire)
        except BaseException:
            future.cancel()
            raise
        return future

    async def _on_ack(self, msg: Msg) -> None:
        future = self._futures.get(msg.subject.rsplit(".", 1)[-1])
        if future is None or future.done():
            return
        if msg.headers and msg.headers.get(Header.STATUS.value) == NO_RESPONDERS:
            future.set_exception(NoStreamResponseError())
            return
        try:
            reply = json.loads(msg.data)
        except ValueError:
            future.set_exception(APIError(description=f"unreadable pub ack: {msg.data[:200]!r}"))
            return
        error = reply.get("error") if isinstance(reply, dict) else None
        if isinstance(error, dict):
            future.set_exception(
                APIError(
                    code=error.get("code"),
                    err_code=error.get("err_code"),
                    description=error.get("description"),
                )
            )
            return
        future.set_result(PubAck.from_response(reply))

"""The control plane over REST: every HTTP request but ``/__mock`` goes through the driver.

:class:`RestControl` describes each request to :func:`zitadel_mock.control.driver.drive` and
supplies REST's side of it (:class:`RestExchange`): errors rendered as the gateway renders
them, the real call being the app it wraps, and the faults as an HTTP/1.1 client sees them (the
connection closed, ``Content-Length: 0``, a head promising 180 bytes, half the body). The
project and app ids come from the operation's one path matcher, whose match the REST operation
then finds in the scope instead of matching a second time.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Final

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zitadel_mock.control.driver import Held, Request, Sent, drive
from zitadel_mock.control.journal import redact_target
from zitadel_mock.control.plane import ControlPlane
from zitadel_mock.domain.errors import MockError
from zitadel_mock.protocols.body import discard_body
from zitadel_mock.protocols.connection import client_gone, drop_connection
from zitadel_mock.protocols.gateway import render_error

MAX_CAPTURE: Final = 8192  # bytes of an error body read for the journal's code and message
STALL_CONTENT_LENGTH: Final = b"180"  # about the size of a success body, never sent
# A forced 405 keeps the header grpc-gateway sends with it.
FORCED_HEADERS: Final = {"method_not_allowed": {"Allow": "POST"}}

# The project and app ids in the path of an operation, or None for a request that is none.
OperationIds = Callable[[Scope], tuple[str | None, str | None] | None]


class RestControl:
    """ASGI middleware: each HTTP request to ``app`` decided, answered and journalled by the
    control plane. ``ids`` reads the project and app ids of an operation from its path (None:
    the request is no operation)."""

    def __init__(self, app: ASGIApp, control: ControlPlane, ids: OperationIds) -> None:
        self.app = app
        self.control = control
        self.ids = ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ids = self.ids(scope)
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        request = Request(  # by position: built for every request (transport, method, path, ...)
            "rest",
            scope["method"],
            redact_target(
                raw_path.decode("latin-1"), scope.get("query_string", b"").decode("latin-1")
            ),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            *(ids if ids is not None else (None, None)),
            ids is not None,
        )
        await drive(self.control, request, RestExchange(self.app, scope, receive, send))


class WatchedReceive:
    """A ``receive`` that can be watched for the client's going away (during a delay) without
    losing the request's body: what the watch reads is kept and handed over afterwards."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._kept: deque[Message] = deque()

    async def __call__(self) -> Message:
        if self._kept:
            return self._kept.popleft()
        return await self._receive()

    async def gone(self) -> None:
        """Return once the client has disconnected; cancel it to stop watching."""
        while True:
            message = await self._receive()
            self._kept.append(message)
            if message["type"] == "http.disconnect":
                return


class RestExchange:
    """The driver's :class:`~zitadel_mock.control.driver.Exchange` for one HTTP request. What it
    sends goes through :meth:`send`, which keeps the status and, of an error, the start of its
    body, for the journal."""

    __slots__ = (
        "_body",
        "_capture",
        "_held_start",
        "_send",
        "app",
        "receive",
        "scope",
        "status",
        "watched",
    )

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        self.app = app
        self.scope = scope
        self.receive: Receive = receive  # a WatchedReceive once watch_gone starts watching
        self.watched: WatchedReceive | None = None  # made only then: most requests never wait
        self._send = send
        self.status: int | None = None
        self._body = bytearray()
        self._capture = False
        self._held_start: Message | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self._capture = self.status is not None and self.status >= 400
        elif self._capture and len(self._body) < MAX_CAPTURE:
            self._body += message.get("body", b"")
        await self._send(message)

    async def send_error(self, error: MockError) -> None:
        answer = render_error(error, FORCED_HEADERS.get(error.row.name))
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer.body)).encode()),
        ]
        await self.send(
            {"type": "http.response.start", "status": answer.status, "headers": headers}
        )
        await self.send({"type": "http.response.body", "body": answer.body})

    async def run(self, namespace: str) -> None:
        # The app reads the namespace from the same header the control plane validated.
        await self.app(self.scope, self.receive, self.send)

    async def hold(self, namespace: str) -> Held:
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(self.scope, self.receive, keep)
        self._held_start = messages[0] if messages else None
        status = self._held_start["status"] if self._held_start is not None else None
        return Held(str(status), b"".join(m.get("body", b"") for m in messages[1:]))

    async def send_part(self, body: bytes) -> None:
        if self._held_start is not None:
            await self.send(self._held_start)
        await self.send({"type": "http.response.body", "body": body, "more_body": True})

    async def send_empty(self) -> None:
        await self.send(_start(200, b"0"))
        await self.send({"type": "http.response.body", "body": b""})

    async def send_stall_head(self) -> None:
        await self.send(_start(200, STALL_CONTENT_LENGTH))

    async def client_gone(self) -> None:
        await client_gone(self.receive)

    async def watch_gone(self) -> None:
        if self.watched is None:
            self.watched = WatchedReceive(self.receive)
            self.receive = self.watched
        await self.watched.gone()

    async def close(self) -> None:
        await discard_body(self.receive)  # a body left unread would turn the close into a reset
        await drop_connection(self.scope)

    async def drop(self) -> None:
        await drop_connection(self.scope)

    def sent(self) -> Sent:
        if not self._body:  # no error body (a success, or nothing sent)
            return Sent(self.status)
        code, message = self._error()
        return Sent(self.status, code, message)

    def _error(self) -> tuple[int | None, str | None]:
        """The gRPC code and message of a google.rpc.Status body, if that is what was sent."""
        if not self._body:
            return None, None
        try:
            body = orjson.loads(self._body)  # the mock's own bodies: UTF-8, no NaN, 64-bit ints
        except orjson.JSONDecodeError:
            try:  # whatever else the standard library reads, read as it reads it
                body = json.loads(self._body)
            except ValueError:
                return None, None
        if not isinstance(body, dict):
            return None, None
        code, message = body.get("code"), body.get("message")
        return (
            code if isinstance(code, int) else None,
            message if isinstance(message, str) else None,
        )


def _start(status: int, content_length: bytes) -> Message:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", content_length)],
    }

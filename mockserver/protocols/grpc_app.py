"""The ASGI side of gRPC and gRPC-web: frames in, frames and trailers out, under the control plane.

:class:`GrpcApp` answers every request whose Content-Type is ``application/grpc*`` (native gRPC,
HTTP/2 with trailers) or ``application/grpc-web*`` (binary or base64 ``-text``, any HTTP
version, trailers in a final frame). It checks what grpc-go's transport checks, in grpc-go's
order (method, HTTP version, timeout, route, encoding, framing), reads exactly one message, and
hands the call to the control plane's driver (:func:`zitadel_mock.control.driver.drive`) with
gRPC's side of it (:class:`GrpcExchange`), which runs it through
:class:`~zitadel_mock.protocols.grpc_codec.GrpcAdapter`. Every call, refused or not, ends as one
journal entry.

Faults drop what a client waits for: on HTTP/1.1 (gRPC-web) the connection, on HTTP/2 the
stream (RST_STREAM with CANCEL; the connection and its other streams live on).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

from google.protobuf.message import Message
from starlette.types import Receive, Scope, Send

from zitadel_mock.control.driver import Held, Request, Sent, drive
from zitadel_mock.control.plane import ControlPlane
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import Code, MockError
from zitadel_mock.domain.headers import SUCCESS_HEADER_BYTES
from zitadel_mock.protocols.connection import client_gone, drop_connection
from zitadel_mock.protocols.grpc_codec import (
    GrpcAdapter,
    Metadata,
    Reply,
    check_method,
    error_reply,
)
from zitadel_mock.protocols.grpc_frames import ClientGoneError, read_message
from zitadel_proto.wire import (
    Wire,
    encode_frame,
    encode_trailer_block,
    encode_web_text,
    parse_timeout,
    wire_of,
)

ENCODINGS: Final = ("identity", "gzip")
# The trailers of a success (grpc-status 0 alone), encoded once: as headers and as gRPC-web's
# trailer frame.
OK_TRAILERS: Final = tuple(
    (n.encode("latin-1"), v.encode("latin-1")) for n, v in Reply(Code.OK).trailers()
)
OK_TRAILER_BLOCK: Final = encode_trailer_block(Reply(Code.OK).trailers())


class GrpcApp:
    def __init__(self, adapter: GrpcAdapter, control: ControlPlane) -> None:
        self.adapter = adapter
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metadata = metadata_of(scope["headers"])
        wire = wire_of(metadata.get("content-type")) or Wire.GRPC
        message: Message | None = None
        refusal: MockError | None = None
        deadline: float | None = None
        try:
            timeout = check_call(scope, wire, metadata)
            reading = self._read(scope["path"], receive, wire, metadata)
            if timeout is None:  # no deadline: no timeout context (about 1.5 µs each)
                message = await reading
            else:
                deadline = asyncio.get_running_loop().time() + timeout
                async with asyncio.timeout_at(deadline):
                    message = await reading
        except ClientGoneError:
            return
        except MockError as error:
            refusal = error
        except TimeoutError:
            refusal = MockError(errors.DEADLINE_EXCEEDED)
        if message is None and refusal is None:
            refusal = MockError(errors.INTERNAL, reason="no message")
        request = Request(  # by position: built for every request (transport, method, path, ...)
            "grpc" if wire is Wire.GRPC else "grpc-web",
            scope["method"],
            scope["path"],
            metadata.items(),
            getattr(message, "project_id", None),
            getattr(message, "app_id", None),
            message is not None,
        )

        async def run(namespace: str) -> Reply:
            assert message is not None  # the driver runs no call that was refused
            return await self.adapter.run(scope["path"], message, metadata, namespace)

        exchange = GrpcExchange(
            scope,
            receive,
            send,
            wire=wire,
            content_type=metadata.get("content-type", wire.value),
            run=run,
        )
        await drive(self.control, request, exchange, refusal=refusal, deadline=deadline)

    async def _read(self, path: str, receive: Receive, wire: Wire, metadata: Metadata) -> Message:
        encoding = metadata.get("grpc-encoding", "identity")
        return self.adapter.parse(path, await read_message(receive, wire, encoding))


class GrpcExchange:
    """The driver's :class:`~zitadel_mock.control.driver.Exchange` for one gRPC or gRPC-web call:
    sends its response and remembers what it said, for the journal. The faults are written once
    here over :meth:`start`, :meth:`body` and :meth:`encode_body`; a sibling wire (connect-go's
    gRPC on the v2 paths) overrides those and :meth:`reply`."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        wire: Wire,
        content_type: str,
        run: Callable[[str], Awaitable[Reply]],
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.wire = wire
        self._run = run
        self.headers = [(b"content-type", content_type.encode("latin-1"))]
        self.native_trailers = wire is Wire.GRPC  # the status goes in HTTP/2 trailers
        self.status: int | None = None
        self.code: int | None = None
        self.text: str | None = None

    # -- the driver's Wire ---------------------------------------------------------------

    async def send_error(self, error: MockError) -> None:
        await self.reply(error_reply(error))

    async def run(self, namespace: str) -> None:
        await self.reply(await self._run(namespace))

    async def hold(self, namespace: str) -> Held:
        reply = await self._run(namespace)
        return Held(f"grpc-status {int(reply.code)}", self.encode_body(reply))

    async def send_part(self, body: bytes) -> None:
        await self.start(200, trailers=self.native_trailers)
        await self.body(body, more=True)

    async def send_empty(self) -> None:
        await self.start(200, trailers=False)
        await self.body(b"", more=False)

    async def send_stall_head(self) -> None:
        await self.start(200, trailers=self.native_trailers)

    async def client_gone(self) -> None:
        await client_gone(self.receive)

    async def watch_gone(self) -> None:
        await client_gone(self.receive)  # the message has been read already: nothing is lost

    async def close(self) -> None:
        await drop_connection(self.scope)  # the message has been read already

    async def drop(self) -> None:
        await drop_connection(self.scope)

    def sent(self) -> Sent:
        return Sent(self.status, self.code, self.text)

    # -- gRPC's answers --------------------------------------------------------------------

    async def start(
        self, status: int, *, trailers: bool, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self.status = status
        start = {
            "type": "http.response.start",
            "status": status,
            "headers": [*self.headers, *(extra or [])],
        }
        if trailers:
            start["trailers"] = True
        await self.send(start)

    async def body(self, body: bytes, *, more: bool) -> None:
        await self.send({"type": "http.response.body", "body": body, "more_body": more})

    def encode_body(self, reply: Reply) -> bytes:
        """The response body: the message frame, and for gRPC-web the trailer frame."""
        body = encode_frame(reply.payload) if reply.payload is not None else b""
        if self.wire is Wire.GRPC:
            return body
        if reply.code is Code.OK and not reply.message and reply.details is None:
            body += OK_TRAILER_BLOCK
        else:
            body += encode_trailer_block(reply.trailers())
        return encode_web_text(body) if self.wire is Wire.GRPC_WEB_TEXT else body

    async def reply(self, reply: Reply) -> None:
        self.code, self.text = int(reply.code), reply.message or None
        trailers = trailer_fields(reply)
        extra = list(SUCCESS_HEADER_BYTES) if reply.payload is not None else []
        if self.status is not None:
            # A head went out already (a stall whose deadline passed): end the call as grpc-go
            # does then, with the status after it, never a second head.
            await self.body(self.encode_body(reply), more=False)
            if self.wire is Wire.GRPC:
                await self.send({"type": "http.response.trailers", "headers": trailers})
            return
        if reply.http_status != 200 or (self.wire is Wire.GRPC and reply.payload is None):
            # Trailers-only: the status travels in the one header block, nothing follows.
            await self.start(reply.http_status, trailers=False, extra=[*extra, *trailers])
            await self.body(b"", more=False)
            return
        await self.start(200, trailers=self.wire is Wire.GRPC, extra=extra)
        await self.body(self.encode_body(reply), more=False)
        if self.wire is Wire.GRPC:
            await self.send({"type": "http.response.trailers", "headers": trailers})


def trailer_fields(reply: Reply) -> list[tuple[bytes, bytes]]:
    """``reply``'s status as HTTP/2 trailer fields (a success's are the same every time)."""
    if reply.code is Code.OK and not reply.message and reply.details is None:
        return list(OK_TRAILERS)
    return [(n.encode("latin-1"), v.encode("latin-1")) for n, v in reply.trailers()]


def check_call(scope: Scope, wire: Wire, metadata: Metadata) -> float | None:
    """grpc-go's checks before it reads a message; returns the call's timeout in seconds."""
    if scope["method"] != "POST":
        raise MockError(errors.GRPC_NEEDS_POST, method=scope["method"])
    if wire is Wire.GRPC and not speaks_trailers(scope):
        raise MockError(errors.GRPC_NEEDS_HTTP2)
    timeout = None
    if "grpc-timeout" in metadata:
        try:
            timeout = parse_timeout(metadata["grpc-timeout"])
        except ValueError:
            raise MockError(errors.GRPC_BAD_TIMEOUT, value=metadata["grpc-timeout"]) from None
    check_method(scope["path"])
    encoding = metadata.get("grpc-encoding", "identity")
    if encoding not in ENCODINGS:
        raise MockError(errors.GRPC_UNKNOWN_ENCODING, encoding=f'"{encoding}"')
    return timeout


def metadata_of(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Request headers as gRPC metadata: lower-case names, the first value of each."""
    metadata: dict[str, str] = {}
    for name, value in headers:
        metadata.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return metadata


def speaks_trailers(scope: Scope) -> bool:
    return scope.get("http_version") == "2" and "http.response.trailers" in scope.get(
        "extensions", {}
    )

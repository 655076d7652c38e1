"""The ASGI side of gRPC and gRPC-web: frames in, frames and trailers out, under the control plane.

:class:`GrpcApp` answers every request whose Content-Type is ``application/grpc*`` (native gRPC,
HTTP/2 with trailers) or ``application/grpc-web*`` (binary or base64 ``-text``, any HTTP
version, trailers in a final frame). It checks what grpc-go's transport checks, in grpc-go's
order (method, HTTP version, timeout, route, encoding, framing), reads exactly one message, asks
the control plane what this call gets (metadata ``prefer`` and ``x-mock-namespace``, or the
queue), and runs it through :class:`~zitadel_mock.protocols.grpc_codec.GrpcAdapter`. Every call,
refused
or not, ends as one journal entry.

Faults drop what a client waits for: on HTTP/1.1 (gRPC-web) the connection, on HTTP/2 the
stream (RST_STREAM with CANCEL; the connection and its other streams live on).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

from google.protobuf.message import Message
from starlette.types import Receive, Scope, Send

from zitadel_mock.control.outcomes import Fault
from zitadel_mock.control.plane import Call, ControlPlane
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.headers import SUCCESS_HEADER_BYTES
from zitadel_mock.protocols.grpc_codec import (
    GrpcAdapter,
    Metadata,
    Reply,
    check_method,
    error_reply,
)
from zitadel_mock.protocols.grpc_frames import ClientGoneError, read_message
from zitadel_mock.protocols.rest_control import drop_connection, wait_for_disconnect
from zitadel_proto.wire import (
    Wire,
    encode_frame,
    encode_trailer_block,
    encode_web_text,
    parse_timeout,
    wire_of,
)

ENCODINGS: Final = ("identity", "gzip")


class GrpcApp:
    def __init__(self, adapter: GrpcAdapter, control: ControlPlane) -> None:
        self.adapter = adapter
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metadata = metadata_of(scope["headers"])
        wire = wire_of(metadata.get("content-type")) or Wire.GRPC
        answer = _Answer(send, wire, metadata.get("content-type", wire.value))
        message: Message | None = None
        refusal: Reply | None = None
        deadline: float | None = None
        try:
            timeout = check_call(scope, wire, metadata)
            if timeout is not None:
                deadline = asyncio.get_running_loop().time() + timeout
            async with asyncio.timeout_at(deadline):
                encoding = metadata.get("grpc-encoding", "identity")
                message = self.adapter.parse(
                    scope["path"], await read_message(receive, wire, encoding)
                )
        except ClientGoneError:
            return
        except MockError as error:
            refusal = error_reply(error)
        except TimeoutError:
            refusal = error_reply(MockError(errors.DEADLINE_EXCEEDED))
        call = self.control.begin(
            transport="grpc" if wire is Wire.GRPC else "grpc-web",
            method=scope["method"],
            path=scope["path"],
            headers=metadata.items(),
            project_id=getattr(message, "project_id", None),
            app_id=getattr(message, "app_id", None),
            operation=message is not None,
        )
        note: str | None = None
        try:
            if refusal is not None or message is None:
                await answer.reply(
                    refusal or error_reply(MockError(errors.INTERNAL, reason="no message"))
                )
            elif call.error is not None:
                await answer.reply(error_reply(call.error))
            else:
                try:
                    async with asyncio.timeout_at(deadline):
                        note = await self._decide(
                            call=call,
                            message=message,
                            metadata=metadata,
                            scope=scope,
                            receive=receive,
                            answer=answer,
                        )
                except TimeoutError:
                    await answer.reply(error_reply(MockError(errors.DEADLINE_EXCEEDED)))
        finally:
            self.control.finish(
                call, status=answer.status, grpc_code=answer.code, message=note or answer.message
            )

    async def _decide(
        self,
        *,
        call: Call,
        message: Message,
        metadata: Metadata,
        scope: Scope,
        receive: Receive,
        answer: _Answer,
    ) -> str | None:
        """Delay, then a fault, a forced error or the real call; returns a note for the journal."""
        if call.delay_ms:
            await asyncio.sleep(call.delay_seconds)

        async def run() -> Reply:
            return await self.adapter.run(scope["path"], message, metadata, call.ns)

        if call.fault is not None:
            return await self._fault(call.fault, scope, receive, answer, run)
        forced = call.forced_error()
        await answer.reply(error_reply(forced) if forced is not None else await run())
        return None

    async def _fault(
        self,
        fault: Fault,
        scope: Scope,
        receive: Receive,
        answer: _Answer,
        run: Callable[[], Awaitable[Reply]],
    ) -> str | None:
        if fault is Fault.CLOSE:
            await drop_connection(scope)
        elif fault is Fault.EMPTY:
            await answer.start(200, trailers=False)
            await answer.body(b"", more=False)
        elif fault is Fault.STALL:
            await answer.start(200, trailers=answer.wire is Wire.GRPC)
            await wait_for_disconnect(receive, self.control.settings.max_stall)
            await drop_connection(scope)
        else:
            reply = await run()
            if fault is Fault.LOST:
                await drop_connection(scope)
                return f"the call answered grpc-status {int(reply.code)}; the response was dropped"
            body = answer.encode_body(reply)
            half = body[: len(body) // 2]
            await answer.start(200, trailers=answer.wire is Wire.GRPC)
            await answer.body(half, more=True)
            await drop_connection(scope)
            return f"{len(half)} of {len(body)} body bytes sent"
        return None


class _Answer:
    """Sends one gRPC or gRPC-web response and remembers what it said, for the journal."""

    def __init__(self, send: Send, wire: Wire, content_type: str) -> None:
        self.send = send
        self.wire = wire
        self.headers = [(b"content-type", content_type.encode("latin-1"))]
        self.status: int | None = None
        self.code: int | None = None
        self.message: str | None = None

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
        body += encode_trailer_block(reply.trailers())
        return encode_web_text(body) if self.wire is Wire.GRPC_WEB_TEXT else body

    async def reply(self, reply: Reply) -> None:
        self.code, self.message = int(reply.code), reply.message or None
        trailers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in reply.trailers()]
        extra = list(SUCCESS_HEADER_BYTES) if reply.payload is not None else []
        if reply.http_status != 200 or (self.wire is Wire.GRPC and reply.payload is None):
            # Trailers-only: the status travels in the one header block, nothing follows.
            await self.start(reply.http_status, trailers=False, extra=[*extra, *trailers])
            await self.body(b"", more=False)
            return
        await self.start(200, trailers=self.wire is Wire.GRPC, extra=extra)
        await self.body(self.encode_body(reply), more=False)
        if self.wire is Wire.GRPC:
            await self.send({"type": "http.response.trailers", "headers": trailers})


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

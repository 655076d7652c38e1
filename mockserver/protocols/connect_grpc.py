"""gRPC and gRPC-web on the v2 and v2beta paths, as connect-go (not grpc-go) serves them.

:class:`~zitadel_mock.protocols.connect.ConnectApp` has checked the path, ``POST`` and the
Content-Type. Here: ``grpc-encoding`` (only gzip and identity, else ``unimplemented``),
``grpc-timeout``, exactly one length-prefixed message (:mod:`zitadel_mock.protocols.grpc_frames`),
proto or JSON inside it (``+json``), then the operation under the control plane. The answer is
connect-go's: the message (gzipped when the client accepts gzip), then ``grpc-status``,
``grpc-message`` and ``grpc-status-details-bin`` as HTTP/2 trailers (gRPC) or a trailer frame
(gRPC-web); an error before any message on gRPC-web is "trailers-only" (all in the headers).
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from dataclasses import dataclass
from typing import Final

from google.protobuf.message import Message
from starlette.types import Receive, Scope, Send

from zitadel_mock.control.outcomes import Fault
from zitadel_mock.control.plane import Call, ControlPlane
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import Code, MockError
from zitadel_mock.operations.generate_client_secret import SecretOperation, run
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.connect_codec import decode_json, decode_proto, success_json
from zitadel_mock.protocols.connect_wire import (
    ENCODINGS,
    MAX_BODY_BYTES,
    canonical_type,
    first_values,
    go_quote,
    gunzip,
    http_date,
    read_limited,
    request_id,
    wait_for_disconnect,
    within,
)
from zitadel_mock.protocols.connection import drop_connection
from zitadel_mock.protocols.grpc_app import speaks_trailers
from zitadel_mock.protocols.grpc_codec import Reply, error_reply
from zitadel_proto.wire import COMPRESSED_FLAG, PREFIX_LENGTH, TRAILER_FLAG, encode_frame

log = logging.getLogger("zitadel_mock.protocols.connect_grpc")


TIMEOUT_UNITS: Final = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def parse_grpc_timeout(value: str) -> float:
    """connect-go's grpcParseTimeout; raises MockError (invalid_argument)."""
    unit = TIMEOUT_UNITS.get(value[-1:])
    if unit is None:
        shown = "'" + value[-1:].replace("'", "\\'") + "'"  # Go's %q of a byte
        reason = f"protocol error: timeout has invalid unit {shown}"
        raise MockError(errors.CONNECT_BAD_GRPC_TIMEOUT, reason=reason)
    digits = value[:-1]
    if not (digits.lstrip("+").isdigit() and digits.isascii()):
        reason = f"protocol error: invalid timeout {go_quote(value)}"
        raise MockError(errors.CONNECT_BAD_GRPC_TIMEOUT, reason=reason)
    if int(digits) > 99_999_999:
        reason = f"protocol error: timeout {go_quote(value)} is too long"
        raise MockError(errors.CONNECT_BAD_GRPC_TIMEOUT, reason=reason)
    return int(digits) * unit


async def read_request(
    receive: Receive, operation: SecretOperation, compressed: bool, as_json: bool
) -> Message:
    """The request message: the body, its one envelope, inflated, decoded by the codec."""
    body = await read_limited(receive, MAX_BODY_BYTES + PREFIX_LENGTH)
    payload, inflate = unary_envelope(body, compressed)
    if inflate and payload:
        payload = gunzip(payload)
    if not payload:  # an empty envelope is the zero message, whatever the codec
        return operation.request_type()
    return (decode_json if as_json else decode_proto)(operation, payload)


def unary_envelope(body: bytes, compressed: bool) -> tuple[bytes, bool]:
    """The one message of a unary request body, as connect-go's envelope reader takes it:
    (payload, whether it is compressed). Raises connect-go's rows, including for no message
    (an empty body, or an envelope with protocol flags, which ends the stream)."""
    first = _envelope(body, 0, compressed)
    if first is None:
        raise MockError(errors.CONNECT_ZERO_MESSAGES)
    flags, payload, end = first
    if flags not in (0, COMPRESSED_FLAG):
        if end < len(body):
            raise MockError(errors.CONNECT_EXTRA_BYTES, count=str(len(body) - end))
        raise MockError(errors.CONNECT_ZERO_MESSAGES)
    second = _envelope(body, end, compressed)
    if second is not None and second[0] in (0, COMPRESSED_FLAG):
        raise MockError(errors.CONNECT_MULTIPLE_MESSAGES)
    return payload, bool(flags & COMPRESSED_FLAG)


def _envelope(body: bytes, at: int, compressed: bool) -> tuple[int, bytes, int] | None:
    if at == len(body):
        return None
    if len(body) - at < PREFIX_LENGTH:
        raise MockError(errors.CONNECT_INCOMPLETE_ENVELOPE)
    flags = body[at]
    size = int.from_bytes(body[at + 1 : at + PREFIX_LENGTH], "big")
    if size > MAX_BODY_BYTES:
        raise MockError(errors.CONNECT_MESSAGE_SIZE, size=str(size), limit=str(MAX_BODY_BYTES))
    start = at + PREFIX_LENGTH
    got = min(len(body) - start, size)
    if got < size:
        raise MockError(errors.CONNECT_SHORT_ENVELOPE, size=str(size), got=str(got))
    if flags & COMPRESSED_FLAG and not compressed:
        raise MockError(errors.CONNECT_UNEXPECTED_COMPRESSION)
    return flags, body[start : start + size], start + size


class ConnectGrpc:
    def __init__(self, service: SecretService, control: ControlPlane) -> None:
        self.service = service
        self.control = control

    async def __call__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        operation: SecretOperation,
        cors: list[tuple[bytes, bytes]],
    ) -> None:
        headers = first_values(scope["headers"])
        content_type = canonical_type(headers.get("content-type", ""))
        web = content_type.startswith("application/grpc-web")
        as_json = "+json" in content_type
        native_trailers = not web and speaks_trailers(scope)
        answer = _Answer(send, web, native_trailers, content_type, cors)
        sent = headers.get("grpc-encoding", "identity")
        accept = headers.get("grpc-accept-encoding", "")
        answer.gzip = sent in ENCODINGS and (
            sent == "gzip" or "gzip" in accept.replace(",", " ").split()
        )
        message: Message | None = None
        refusal: MockError | None = None
        deadline: float | None = None
        try:
            if sent not in ENCODINGS:
                raise MockError(errors.CONNECT_UNKNOWN_COMPRESSION, encoding=go_quote(sent))
            if headers.get("grpc-timeout"):
                timeout = parse_grpc_timeout(headers["grpc-timeout"])
                deadline = asyncio.get_running_loop().time() + timeout
            # As with net/http, reading the body does not watch the deadline.
            message = await read_request(receive, operation, sent == "gzip", as_json)
        except ConnectionResetError:
            return
        except MockError as error:
            refusal = error
        fields = operation.fields_of(message) if message is not None else None
        call = self.control.begin(
            transport="grpc-web" if web else "grpc",
            method="POST",
            path=scope["path"],
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            project_id=fields.project_id if fields else None,
            app_id=fields.application_id if fields else None,
            operation=message is not None,
            api=operation.api.value,
        )
        note: str | None = None
        try:
            if refusal is not None or message is None:
                await answer.reply(error_reply(refusal or MockError(errors.INTERNAL, reason="")))
            elif call.error is not None:
                await answer.reply(error_reply(call.error))
            else:
                try:
                    if call.delay_ms:
                        async with within(deadline):
                            await asyncio.sleep(call.delay_seconds)
                    exchange = _Exchange(
                        scope, receive, answer, operation, headers, as_json, deadline
                    )
                    note = await self._answer(call, exchange, message)
                except TimeoutError:
                    if answer.status is None:
                        await answer.reply(error_reply(MockError(errors.DEADLINE_EXCEEDED)))
                    else:  # the deadline fell inside the answer: what was sent stays cut
                        await drop_connection(scope)
        finally:
            self.control.finish(
                call, status=answer.status, grpc_code=answer.code, message=note or answer.message
            )

    async def _answer(self, call: Call, exchange: _Exchange, message: Message) -> str | None:
        """A fault, a forced error or the real call; returns a note for the journal."""
        fault, scope, answer = call.fault, exchange.scope, exchange.answer
        operation, headers, receive = exchange.operation, exchange.headers, exchange.receive
        if fault is Fault.CLOSE:
            await drop_connection(scope)
            return None
        if fault is Fault.EMPTY:
            await answer.start(trailers=False)
            await answer.body(b"", more=False)
            return None
        if fault is Fault.STALL:
            await answer.start(trailers=answer.native_trailers)
            async with within(exchange.deadline):
                await wait_for_disconnect(receive, self.control.settings.max_stall)
            await drop_connection(scope)
            return None
        forced = call.forced_error()
        if forced is not None:
            await answer.reply(error_reply(operation.own_row(forced)))
            return None
        try:
            result = run(
                self.service,
                operation,
                message,
                authorization=headers.get("authorization"),
                org_header=headers.get("x-zitadel-orgid"),
                ns=call.ns,
                expired=exchange.expired,
            )
            payload = (
                success_json(result)
                if exchange.as_json
                else operation.response(result).SerializeToString()
            )
            reply = Reply(Code.OK, payload=payload)
        except MockError as error:
            reply = error_reply(error)
        except Exception as exc:
            log.exception("unexpected failure in a gRPC call on a v2 path")
            reply = error_reply(MockError(errors.INTERNAL, reason=type(exc).__name__))
        if fault is Fault.LOST:
            await drop_connection(scope)
            return f"the call answered grpc-status {int(reply.code)}; the response was dropped"
        if fault is Fault.TRUNCATE:
            body = answer.encode_body(reply)
            half = body[: len(body) // 2]
            await answer.start(trailers=answer.native_trailers)
            await answer.body(half, more=True)
            await drop_connection(scope)
            return f"{len(half)} of {len(body)} body bytes sent"
        await answer.reply(reply)
        return None


def web_trailers(trailers: list[tuple[str, str]]) -> bytes:
    """The gRPC-web trailer frame as connect-go writes it: Go's Header.Write, keys sorted,
    lower-case, ``name: value`` lines."""
    block = "".join(f"{name.lower()}: {value}\r\n" for name, value in sorted(trailers))
    return encode_frame(block.encode("latin-1"), TRAILER_FLAG)


@dataclass(frozen=True, slots=True)
class _Exchange:
    scope: Scope
    receive: Receive
    answer: _Answer
    operation: SecretOperation
    headers: dict[str, str]
    as_json: bool
    deadline: float | None

    def expired(self) -> bool:
        return self.deadline is not None and asyncio.get_running_loop().time() >= self.deadline


class _Answer:
    def __init__(
        self,
        send: Send,
        web: bool,
        native_trailers: bool,
        content_type: str,
        cors: list[tuple[bytes, bytes]],
    ) -> None:
        self.send = send
        self.web = web
        self.native_trailers = native_trailers
        self.gzip = False
        self.headers = [
            (b"content-type", content_type.encode("latin-1")),
            (b"grpc-accept-encoding", b"gzip"),
            (b"x-robots-tag", b"none"),
            *cors,
        ]
        self.status: int | None = None
        self.code: int | None = None
        self.message: str | None = None

    async def start(
        self, *, trailers: bool, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self.status = 200
        # connect-go names the response compression once it is negotiated, success or not.
        encoding = [(b"grpc-encoding", b"gzip")] if self.gzip else []
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [*self.headers, *encoding, *(extra or [])],
        }
        if trailers:
            start["trailers"] = True
        await self.send(start)

    async def body(self, body: bytes, *, more: bool) -> None:
        await self.send({"type": "http.response.body", "body": body, "more_body": more})

    def encode_body(self, reply: Reply) -> bytes:
        body = b""
        if reply.payload is not None:
            if self.gzip:
                body = encode_frame(gzip.compress(reply.payload, mtime=0), COMPRESSED_FLAG)
            else:
                body = encode_frame(reply.payload)
        if self.web:
            body += web_trailers(reply.trailers())
        return body

    async def reply(self, reply: Reply) -> None:
        self.code, self.message = int(reply.code), reply.message or None
        trailers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in reply.trailers()]
        extra: list[tuple[bytes, bytes]] = []
        if reply.payload is not None:
            extra = [
                (b"cache-control", b"no-store"),
                (b"pragma", b"no-cache"),
                (b"expires", http_date()),
            ]
        if reply.code is not Code.OK:  # the error's metadata travels with its status
            trailers.append((b"x-request-id", request_id()))
        if reply.payload is None and (self.web or not self.native_trailers):
            # Trailers-only: nothing was written, so the status travels in the headers.
            await self.start(trailers=False, extra=[*extra, *trailers])
            await self.body(b"", more=False)
            return
        await self.start(trailers=self.native_trailers, extra=extra)
        await self.body(self.encode_body(reply), more=False)
        if self.native_trailers:
            await self.send({"type": "http.response.trailers", "headers": trailers})

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
from collections.abc import Awaitable, Callable
from typing import Final

from google.protobuf.message import Message
from starlette.types import Receive, Scope, Send

from zitadel_mock.control.driver import Request, drive
from zitadel_mock.control.plane import ControlPlane
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import Code, MockError
from zitadel_mock.operations.generate_client_secret import SecretOperation, run
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.connect_codec import decode_json, decode_proto, success_json
from zitadel_mock.protocols.connect_wire import (
    ENCODINGS,
    MAX_BODY_BYTES,
    go_quote,
    gunzip,
    http_date,
    read_limited,
    request_id,
)
from zitadel_mock.protocols.connection import drop_connection
from zitadel_mock.protocols.grpc_app import GrpcExchange, speaks_trailers, trailer_fields
from zitadel_mock.protocols.grpc_codec import Reply, error_reply
from zitadel_proto.wire import COMPRESSED_FLAG, PREFIX_LENGTH, TRAILER_FLAG, Wire, encode_frame

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
        *,
        headers: dict[str, str],
        pairs: list[tuple[str, str]],
        content_type: str,
    ) -> None:
        """``headers``: the request's, the first value of each by lower-case name
        (:func:`~zitadel_mock.protocols.connect_wire.first_values`); ``pairs``: all of them, in
        order, as text; ``content_type``: its canonical Content-Type.
        :class:`~zitadel_mock.protocols.connect.ConnectApp` has them all."""
        web = content_type.startswith("application/grpc-web")
        as_json = "+json" in content_type
        sent = headers.get("grpc-encoding", "identity")
        accept = headers.get("grpc-accept-encoding", "")
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
        if message is None and refusal is None:
            refusal = MockError(errors.INTERNAL, reason="")
        fields = operation.fields_of(message) if message is not None else None
        request = Request(
            transport="grpc-web" if web else "grpc",
            method="POST",
            path=scope["path"],
            headers=pairs,
            project_id=fields.project_id if fields else None,
            app_id=fields.application_id if fields else None,
            operation=message is not None,
            api=operation.api.value,
        )
        expired = _expired(deadline)

        async def call(namespace: str) -> Reply:
            assert message is not None  # the driver runs no call that was refused
            return self._call(
                operation, message, namespace, headers=headers, as_json=as_json, expired=expired
            )

        exchange = ConnectGrpcExchange(
            scope,
            receive,
            send,
            operation=operation,
            content_type=content_type,
            cors=cors,
            run=call,
        )
        exchange.gzip = sent in ENCODINGS and (
            sent == "gzip" or "gzip" in accept.replace(",", " ").split()
        )
        await drive(self.control, request, exchange, refusal=refusal, deadline=deadline)

    def _call(
        self,
        operation: SecretOperation,
        message: Message,
        namespace: str,
        *,
        headers: dict[str, str],
        as_json: bool,
        expired: Callable[[], bool],
    ) -> Reply:
        """The operation, and its success or error as a gRPC reply."""
        try:
            result = run(
                self.service,
                operation,
                message,
                authorization=headers.get("authorization"),
                org_header=headers.get("x-zitadel-orgid"),
                ns=namespace,
                expired=expired,
            )
        except MockError as error:
            return error_reply(error)
        except Exception as exc:
            log.exception("unexpected failure in a gRPC call on a v2 path")
            return error_reply(MockError(errors.INTERNAL, reason=type(exc).__name__))
        payload = (
            success_json(result) if as_json else operation.response(result).SerializeToString()
        )
        return Reply(Code.OK, payload=payload)


def _expired(deadline: float | None) -> Callable[[], bool]:
    if deadline is None:
        return lambda: False
    return lambda: asyncio.get_running_loop().time() >= deadline


class ConnectGrpcExchange(GrpcExchange):
    """gRPC and gRPC-web on a v2 path: :class:`GrpcExchange`'s faults over connect-go's answers
    (its headers, gzip, sorted gRPC-web trailers, ``x-request-id`` with an error)."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        operation: SecretOperation,
        content_type: str,
        cors: list[tuple[bytes, bytes]],
        run: Callable[[str], Awaitable[Reply]],
    ) -> None:
        web = content_type.startswith("application/grpc-web")
        super().__init__(
            scope,
            receive,
            send,
            wire=Wire.GRPC_WEB if web else Wire.GRPC,
            content_type=content_type,
            run=run,
        )
        self.operation = operation
        self.web = web
        self.native_trailers = not web and speaks_trailers(scope)
        self.gzip = False
        self.headers += [
            (b"grpc-accept-encoding", b"gzip"),
            (b"x-robots-tag", b"none"),
            *cors,
        ]

    async def send_error(self, error: MockError) -> None:
        if self.status is not None:
            # A head went out already (a stall whose deadline passed): what was sent stays cut.
            await drop_connection(self.scope)
            return
        # Forced outcomes name v1's rows; this call answers its own.
        await self.reply(error_reply(self.operation.own_row(error)))

    async def start(
        self, status: int, *, trailers: bool, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        # connect-go names the response compression once it is negotiated, success or not.
        encoding = [(b"grpc-encoding", b"gzip")] if self.gzip else []
        await super().start(status, trailers=trailers, extra=[*encoding, *(extra or [])])

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
        self.code, self.text = int(reply.code), reply.message or None
        trailers = trailer_fields(reply)
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
            await self.start(200, trailers=False, extra=[*extra, *trailers])
            await self.body(b"", more=False)
            return
        await self.start(200, trailers=self.native_trailers, extra=extra)
        await self.body(self.encode_body(reply), more=False)
        if self.native_trailers:
            await self.send({"type": "http.response.trailers", "headers": trailers})


def web_trailers(trailers: list[tuple[str, str]]) -> bytes:
    """The gRPC-web trailer frame as connect-go writes it: Go's Header.Write, keys sorted,
    lower-case, ``name: value`` lines."""
    block = "".join(f"{name.lower()}: {value}\r\n" for name, value in sorted(trailers))
    return encode_frame(block.encode("latin-1"), TRAILER_FLAG)

"""The v2 and v2beta service paths as connect-go serves them (ZITADEL-v2.md section 2).

:class:`ConnectApp` answers every request under ``/zitadel.application.v2.ApplicationService/``
and ``/zitadel.app.v2beta.AppService/``, whatever its protocol, in connect-go's order: CORS
(rs/cors), the exact method path (else ``404 page not found``), ``POST`` (else 405, ``Allow``),
a Content-Type connect-go accepts (else 415, ``Accept-Post``); then gRPC and gRPC-web go to
:mod:`zitadel_mock.protocols.connect_grpc`, Connect unary stays here: compression (501),
``Connect-Protocol-Version`` (400), ``Connect-Timeout-Ms`` (400), the body (400), and the
operation (:mod:`zitadel_mock.operations.generate_client_secret`) under the control plane.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from google.protobuf.message import Message
from starlette.types import Message as AsgiMessage
from starlette.types import Receive, Scope, Send

from zitadel_mock.control.driver import Held, Request, Sent, drive
from zitadel_mock.control.plane import ControlPlane
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import CONNECT_HTTP_STATUS, MockError
from zitadel_mock.operations.generate_client_secret import BY_PATH, SecretOperation, run
from zitadel_mock.operations.service import Regenerated, SecretService
from zitadel_mock.protocols.connect_codec import (
    decode_json,
    decode_proto,
    error_json,
    success_json,
    success_proto,
)
from zitadel_mock.protocols.connect_wire import (
    ACCEPT_POST,
    COMMON,
    CONNECT_TYPES,
    EXPOSED,
    GRPC_TYPES,
    GRPC_WEB_TYPES,
    NOT_FOUND_BODY,
    api_of,
    canonical_type,
    decoded_headers,
    drain,
    first_values,
    gunzip,
    http_date,
    negotiate,
    read_limited,
    request_id,
)
from zitadel_mock.protocols.connection import client_gone, drop_connection

if TYPE_CHECKING:  # built beside this app (app.py); only its type is needed here
    from zitadel_mock.protocols.connect_grpc import ConnectGrpc

log = logging.getLogger("zitadel_mock.protocols.connect")


class Responder:
    """Sends one answer and remembers its status, code and message for the journal."""

    def __init__(self, send: Send, cors: list[tuple[bytes, bytes]]) -> None:
        self.send = send
        self.cors = cors
        self.status: int | None = None
        self.code: int | None = None
        self.message: str | None = None

    async def raw(
        self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, *, more: bool = False
    ) -> None:
        self.status = status
        start: AsgiMessage = {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, *self.cors, (b"content-length", str(len(body)).encode())],
        }
        await self.send(start)
        await self.send({"type": "http.response.body", "body": body, "more_body": more})

    async def answer(self, answer: Answer) -> None:
        self.code, self.message = answer.code, answer.message
        await self.raw(answer.status, answer.headers, answer.body)


@dataclass(frozen=True, slots=True)
class Answer:
    """One Connect answer, whole: what :class:`Responder` writes, or the driver holds back."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = field(repr=False)  # a success's holds the secret
    code: int | None = None  # an error's gRPC code and message, for the journal
    message: str | None = None


def error_answer(error: MockError) -> Answer:
    """A MockError as connect-go writes an error: its JSON, the status by connect-go's table."""
    if error.row is errors.METHOD_NOT_ALLOWED:  # a forced 405 is connect-go's own, empty
        return Answer(405, [(b"allow", b"POST")], b"")
    headers = [
        (b"content-type", b"application/json"),
        (b"accept-encoding", b"gzip"),
        *COMMON,
    ]
    if error.row not in CONNECT_GO_ROWS:  # connect-go's own errors carry no metadata
        headers.append((b"x-request-id", request_id()))
    return Answer(
        CONNECT_HTTP_STATUS[error.code], headers, error_json(error), int(error.code), error.message
    )


CONNECT_GO_ROWS: Final = frozenset(
    {
        errors.CONNECT_UNKNOWN_COMPRESSION,
        errors.CONNECT_BAD_VERSION,
        errors.CONNECT_BAD_TIMEOUT,
        errors.CONNECT_BAD_MESSAGE,
        errors.CONNECT_BAD_COMPRESSION,
        errors.CONNECT_TOO_LARGE,
    }
)


@dataclass(slots=True)
class Unary:
    """One Connect unary request in flight: where it came from and how its answer is written."""

    scope: Scope
    receive: Receive
    responder: Responder
    operation: SecretOperation
    headers: dict[str, str]  # the first value of each, by lower-case name
    pairs: list[tuple[str, str]]  # every field, in order, as text
    content_type: str  # canonical
    proto: bool = False
    compress: bool = False
    deadline: float | None = None  # loop time; Connect-Timeout-Ms

    def expired(self) -> bool:
        return self.deadline is not None and asyncio.get_running_loop().time() >= self.deadline


class ConnectExchange:
    """The driver's :class:`~zitadel_mock.control.driver.Exchange` for one Connect request:
    ``call`` is its real call (the operation, or an early refusal), giving the whole answer;
    the faults look as a Connect client sees them (the connection dropped, an empty 200, a head
    promising a body, half the body)."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        responder: Responder,
        call: Callable[[str], Answer],
        *,
        operation: SecretOperation | None = None,
        content_type: str = "",
    ) -> None:
        self.scope = scope
        # A success's fault answers echo the request's Content-Type, as connect-go does.
        self._content_type = [(b"content-type", content_type.encode("latin-1"))]
        self.receive = receive
        self.responder = responder
        self._call = call
        self._operation = operation
        self._held: Answer | None = None

    async def send_error(self, error: MockError) -> None:
        if self.responder.status is not None:
            # A head went out already (a stall whose deadline passed): what was sent stays cut.
            await drop_connection(self.scope)
            return
        if self._operation is not None:  # forced outcomes name v1's rows; this call has its own
            error = self._operation.own_row(error)
        await self.responder.answer(error_answer(error))

    async def run(self, namespace: str) -> None:
        await self.responder.answer(self._call(namespace))

    async def hold(self, namespace: str) -> Held:
        self._held = self._call(namespace)
        return Held(str(self._held.status), self._held.body)

    async def send_part(self, body: bytes) -> None:
        held = self._held
        assert held is not None  # the driver holds the answer first
        self.responder.code, self.responder.message = held.code, held.message
        length = (b"content-length", str(len(held.body)).encode())
        await self._start(held.status, [*held.headers, *self.responder.cors, length])
        await self.responder.send({"type": "http.response.body", "body": body, "more_body": True})

    async def send_empty(self) -> None:
        await self.responder.raw(200, self._content_type, b"")

    async def send_stall_head(self) -> None:
        headers = [*self._content_type, (b"content-length", b"128"), *self.responder.cors]
        await self._start(200, headers)

    async def client_gone(self) -> None:
        await client_gone(self.receive)

    async def watch_gone(self) -> None:
        await client_gone(self.receive)  # the body has been read already: nothing is lost

    async def close(self) -> None:
        await drop_connection(self.scope)  # the body has been read already

    async def drop(self) -> None:
        await drop_connection(self.scope)

    def sent(self) -> Sent:
        return Sent(self.responder.status, self.responder.code, self.responder.message)

    async def _start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.responder.status = status
        await self.responder.send(
            {"type": "http.response.start", "status": status, "headers": headers}
        )


class ConnectApp:
    """ASGI for the v2 prefixes. ``grpc`` answers gRPC and gRPC-web requests on the same paths."""

    def __init__(
        self,
        service: SecretService,
        control: ControlPlane,
        grpc: ConnectGrpc | None = None,
        cors_origins: tuple[str, ...] = ("*",),
    ) -> None:
        self.service = service
        self.control = control
        self.grpc = grpc
        self._any_origin = "*" in cors_origins
        self._origins = set(cors_origins)

    def _cors(self, headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
        out = [(b"vary", b"Origin")]
        origin = headers.get("origin")
        if origin and (self._any_origin or origin in self._origins):
            out += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-expose-headers", EXPOSED),
            ]
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pairs = decoded_headers(scope["headers"])
        headers = first_values(pairs)
        method: str = scope["method"]
        origin = headers.get("origin")
        if method == "OPTIONS" and origin and "access-control-request-method" in headers:
            await self._preflight(origin, headers, send)
            return
        operation = BY_PATH.get(scope["path"])
        content_type = canonical_type(headers.get("content-type", ""))
        cors = self._cors(headers)
        if operation is not None and method == "POST" and self.grpc is not None:  # noqa: SIM102
            if content_type in GRPC_TYPES or content_type in GRPC_WEB_TYPES:
                await self.grpc(
                    scope,
                    receive,
                    send,
                    operation,
                    cors,
                    headers=headers,
                    pairs=pairs,
                    content_type=content_type,
                )
                return
        responder = Responder(send, cors)
        try:
            if operation is None or method != "POST" or content_type not in CONNECT_TYPES:
                await self._refuse_early(scope, receive, responder, pairs, operation is not None)
                return
            proto = content_type == "application/proto"
            exchange = Unary(
                scope, receive, responder, operation, headers, pairs, content_type, proto
            )
            await self._unary(exchange)
        except ConnectionResetError:
            return

    async def _refuse_early(
        self,
        scope: Scope,
        receive: Receive,
        responder: Responder,
        pairs: list[tuple[str, str]],
        known_method: bool,
    ) -> None:
        """T1 to T3: answered by connect-go (or its mux) before any Connect code runs. Through
        the driver as a request that is no operation: its "call" is the refusal."""
        await drain(receive)
        if not known_method:
            answer = Answer(
                404,
                [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"x-content-type-options", b"nosniff"),
                ],
                NOT_FOUND_BODY,
            )
        elif scope["method"] != "POST":
            answer = Answer(405, [(b"allow", b"POST")], b"")
        else:
            answer = Answer(415, [(b"accept-post", ACCEPT_POST)], b"")
        request = Request(
            transport="connect",
            method=scope["method"],
            path=scope["path"],
            headers=pairs,
            operation=False,
            api=api_of(scope["path"]),
        )
        exchange = ConnectExchange(scope, receive, responder, lambda _namespace: answer)
        await drive(self.control, request, exchange)

    async def _unary(self, exchange: Unary) -> None:
        """T4 to T7, then the control plane's driver with the operation as the real call."""
        operation = exchange.operation
        message: Message | None = None
        refusal: MockError | None = None
        try:
            negotiated = negotiate(exchange.headers)
            exchange.compress = negotiated.response_gzip
            if negotiated.timeout is not None:
                exchange.deadline = asyncio.get_running_loop().time() + negotiated.timeout
            # As with net/http, reading the body does not watch the deadline.
            body = await read_limited(exchange.receive)
            if body and negotiated.request_gzip:
                body = gunzip(body)
            decode = decode_proto if exchange.proto else decode_json
            message = decode(operation, body)
        except MockError as error:
            refusal = error
        if message is None and refusal is None:
            refusal = MockError(errors.INTERNAL, reason="no message")
        fields = operation.fields_of(message) if message is not None else None
        request = Request(
            transport="connect-proto" if exchange.proto else "connect",
            method="POST",
            path=exchange.scope["path"],
            headers=exchange.pairs,
            project_id=fields.project_id if fields else None,
            app_id=fields.application_id if fields else None,
            operation=message is not None,
            api=operation.api.value,
        )

        def call(namespace: str) -> Answer:
            assert message is not None  # the driver runs no call that was refused
            return self._call(exchange, message, namespace)

        await drive(
            self.control,
            request,
            ConnectExchange(
                exchange.scope,
                exchange.receive,
                exchange.responder,
                call,
                operation=operation,
                content_type=exchange.content_type,
            ),
            refusal=refusal,
            deadline=exchange.deadline,
        )

    def _call(self, exchange: Unary, message: Message, namespace: str) -> Answer:
        """The operation, and its success or error as Connect writes it."""
        try:
            result = run(
                self.service,
                exchange.operation,
                message,
                authorization=exchange.headers.get("authorization"),
                org_header=exchange.headers.get("x-zitadel-orgid"),
                ns=namespace,
                expired=exchange.expired,
            )
        except MockError as error:
            return error_answer(error)
        except Exception as exc:
            log.exception("unexpected failure in a Connect call")
            return error_answer(MockError(errors.INTERNAL, reason=type(exc).__name__))
        headers, body = success(exchange, result)
        return Answer(200, headers, body)

    async def _preflight(self, origin: str, headers: dict[str, str], send: Send) -> None:
        """rs/cors: 204 before connect-go; every origin allowed, with credentials."""
        out = [(b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")]
        if self._any_origin or origin in self._origins:
            # rs/cors echoes the requested method and headers as sent. ZITADEL allows a fixed
            # list of request headers; the mock allows any, so that browsers can send its own
            # (Prefer, X-Mock-Namespace).
            out += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (
                    b"access-control-allow-methods",
                    headers["access-control-request-method"].encode("latin-1"),
                ),
            ]
            requested = headers.get("access-control-request-headers")
            if requested:
                out.append((b"access-control-allow-headers", requested.encode("latin-1")))
            out.append((b"access-control-allow-credentials", b"true"))
        await send({"type": "http.response.start", "status": 204, "headers": out})
        await send({"type": "http.response.body", "body": b""})


def success(exchange: Unary, result: Regenerated) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a success, as section 3 lists them."""
    proto = exchange.proto
    body = success_proto(exchange.operation, result) if proto else success_json(result)
    headers = [
        (b"content-type", exchange.content_type.encode("latin-1")),
        (b"accept-encoding", b"gzip"),
        (b"cache-control", b"no-store"),
        (b"pragma", b"no-cache"),
        (b"expires", http_date()),
        (b"x-request-id", request_id()),
        *COMMON,
    ]
    if exchange.compress:
        body = gzip.compress(body, compresslevel=6, mtime=0)
        headers.append((b"content-encoding", b"gzip"))
    return headers, body

"""Deliberately broken gRPC servers: the real mock behind a middleware that breaks ONE promise of
its gRPC or gRPC-web answers.

The middleware lets the mock answer, takes the answer apart into the response message (if any)
and the status trailers, whatever the wire (native gRPC: HTTP/2 trailers, or the headers of a
trailers-only answer; gRPC-web: a trailer frame, binary or base64), lets the defect rewrite
them, and puts them back together on the same wire. Requests that are not gRPC go to ``rest``:
the mock itself, or a REST defect around it. Served by :func:`tests.support.broken_servers.serve`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.support import broken_servers as broken
from zitadel_proto.status import decode_status, encode_status
from zitadel_proto.wire import (
    STATUS_DETAILS_HEADER,
    Wire,
    decode_binary_header,
    decode_grpc_message,
    decode_web_text,
    encode_binary_header,
    encode_frame,
    encode_grpc_message,
    encode_trailer_block,
    encode_web_text,
    split_frames,
    wire_of,
)
from zitadel_proto.zitadel.management_pb2 import RegenerateOIDCClientSecretResponse

Pairs = list[tuple[str, str]]
Headers = list[tuple[bytes, bytes]]
STATUS_NAMES = frozenset({"grpc-status", "grpc-message", STATUS_DETAILS_HEADER})


@dataclass(frozen=True)
class Answer:
    """A gRPC answer taken apart: the message, and the status as sent (values still encoded).

    ``in_frame`` False: the status travelled in the headers (trailers-only) instead of in
    HTTP/2 trailers or a gRPC-web trailer frame.
    """

    message: bytes | None
    trailers: Pairs
    in_frame: bool

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.trailers if key == name), None)

    def with_trailer(self, name: str, value: str | None) -> Answer:
        kept = [(key, old) for key, old in self.trailers if key != name]
        return replace(self, trailers=kept if value is None else [*kept, (name, value)])

    @property
    def code(self) -> int:
        return int(self.get("grpc-status") or "-1")

    @property
    def text(self) -> str:
        return decode_grpc_message(self.get("grpc-message") or "")


class GrpcDefect:
    """Rewrites every gRPC and gRPC-web answer with :meth:`rewrite`; the rest goes to ``rest``."""

    def __init__(self, app: ASGIApp, rest: ASGIApp | None = None) -> None:
        self.app = app
        self.rest = rest or app

    def rewrite(self, answer: Answer) -> Answer:
        return answer

    def metadata(self, headers: Headers) -> Headers:
        """The request's headers (gRPC metadata) as the mock gets them."""
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        wire = wire_of(headers.get(b"content-type"))
        if wire is None:
            await self.rest(scope, receive, send)
            return
        scope = {**scope, "headers": self.metadata(list(scope["headers"]))}
        start: dict[str, Any] = {}
        body: list[bytes] = []
        trailers: list[tuple[bytes, bytes]] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            elif message["type"] == "http.response.trailers":
                trailers.extend(message.get("headers", []))

        await self.app(scope, receive, capture)
        if not start:
            return  # the mock dropped the call (a fault): so does the defect
        plain, answer = take_apart(wire, start, b"".join(body), trailers)
        await put_together(send, wire, start["status"], plain, self.rewrite(answer))


def _decoded(pairs: list[tuple[bytes, bytes]]) -> Pairs:
    return [(bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1")) for k, v in pairs]


def take_apart(
    wire: Wire, start: dict[str, Any], body: bytes, trailers: list[tuple[bytes, bytes]]
) -> tuple[Pairs, Answer]:
    """The headers that are no status, and the answer."""
    headers = _decoded(start.get("headers", []))
    plain = [(k, v) for k, v in headers if k not in STATUS_NAMES and k != "content-length"]
    in_headers = [(k, v) for k, v in headers if k in STATUS_NAMES]
    if wire is Wire.GRPC_WEB_TEXT:
        body = decode_web_text(body)
    frames, _rest = split_frames(body)
    message = next((frame.payload for frame in frames if not frame.is_trailer), None)
    if wire is Wire.GRPC:
        status = _decoded(trailers)
    else:
        block = next((frame.payload for frame in frames if frame.is_trailer), b"")
        lines = block.decode("latin-1").split("\r\n")
        status = [(n.strip().lower(), v.strip()) for n, _, v in (x.partition(":") for x in lines)]
        status = [(name, value) for name, value in status if name]
    if status:
        return plain, Answer(message, status, in_frame=True)
    return plain, Answer(message, in_headers, in_frame=False)


async def put_together(send: Send, wire: Wire, status: int, plain: Pairs, answer: Answer) -> None:
    headers = plain if answer.in_frame else [*plain, *answer.trailers]
    body = encode_frame(answer.message) if answer.message is not None else b""
    native_trailers = wire is Wire.GRPC and answer.in_frame
    if wire is not Wire.GRPC:
        if answer.in_frame:
            body += encode_trailer_block(answer.trailers)
        if wire is Wire.GRPC_WEB_TEXT:
            body = encode_web_text(body)
        headers = [*headers, ("content-length", str(len(body)))]
    encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": encoded,
            "trailers": native_trailers,
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
    if native_trailers:
        trailers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.trailers]
        await send({"type": "http.response.trailers", "headers": trailers})


def _with_details(answer: Answer, code: int, text: str) -> Answer:
    """The answer with grpc-status, grpc-message and the details' status all saying this."""
    details = answer.get(STATUS_DETAILS_HEADER)
    if details is not None:
        error_details = tuple(decode_status(decode_binary_header(details)).error_details)
        details = encode_binary_header(encode_status(code, text, error_details))
    answer = answer.with_trailer("grpc-status", str(code))
    answer = answer.with_trailer("grpc-message", encode_grpc_message(text))
    return answer.with_trailer(STATUS_DETAILS_HEADER, details)


class _SuccessRewrite(GrpcDefect):
    """Rewrites the response message of every success."""

    def change(self, response: RegenerateOIDCClientSecretResponse) -> None:
        """Change ``response`` in place."""

    def rewrite(self, answer: Answer) -> Answer:
        if answer.code != 0 or answer.message is None:
            return answer
        response = RegenerateOIDCClientSecretResponse.FromString(answer.message)
        self.change(response)
        return replace(answer, message=response.SerializeToString())


# -- the defects, one promise each -----------------------------------------------------------


class UnknownAppIsForbidden(GrpcDefect):
    """An unknown project or app gives grpc-status 7 (details agreeing) instead of 5."""

    def rewrite(self, answer: Answer) -> Answer:
        if answer.code != 5 or "COMMAND-2g66f" not in answer.text:
            return answer
        return _with_details(answer, 7, answer.text)


class GarbledStatusDetails(GrpcDefect):
    """grpc-status-details-bin is valid base64 of bytes that are no google.rpc.Status."""

    def rewrite(self, answer: Answer) -> Answer:
        if answer.get(STATUS_DETAILS_HEADER) is None:
            return answer
        truncated = b"\x12\x40Application"  # field 2 says 64 bytes, 11 follow
        return answer.with_trailer(STATUS_DETAILS_HEADER, encode_binary_header(truncated))


class MissingStatusDetails(GrpcDefect):
    """ZITADEL's errors without grpc-status-details-bin: the ErrorDetail is lost."""

    def rewrite(self, answer: Answer) -> Answer:
        return answer.with_trailer(STATUS_DETAILS_HEADER, None)


class MessageWithoutId(GrpcDefect):
    """grpc-message says only the text, not '<text> (<id>)'; the details are left as they were."""

    def rewrite(self, answer: Answer) -> Answer:
        details = answer.get(STATUS_DETAILS_HEADER)
        if details is None:
            return answer
        detail = decode_status(decode_binary_header(details)).error_details[0]
        return answer.with_trailer("grpc-message", encode_grpc_message(detail.message))


class StuckSequence(_SuccessRewrite):
    """details.sequence never moves from its first value."""

    first: int | None = None

    def change(self, response: RegenerateOIDCClientSecretResponse) -> None:
        self.first = self.first or response.details.sequence
        response.details.sequence = self.first


class SuccessStatusInHeaders(GrpcDefect):
    """gRPC-web successes carry grpc-status:0 in the headers, with no trailer frame."""

    def rewrite(self, answer: Answer) -> Answer:
        if answer.code != 0:
            return answer
        return replace(answer, in_frame=False)


class OldSecretKeepsWorking(GrpcDefect):
    """At the token endpoint (REST), any secret ever returned over gRPC still authenticates."""

    def __init__(self, app: ASGIApp) -> None:
        self.token_endpoint = broken.OldSecretKeepsWorking(app)
        super().__init__(app, self.token_endpoint)

    def rewrite(self, answer: Answer) -> Answer:
        if answer.code == 0 and answer.message is not None:
            response = RegenerateOIDCClientSecretResponse.FromString(answer.message)
            self.token_endpoint.returned.add(response.client_secret)
        return answer


class MangledSuccesses(_SuccessRewrite):
    """Not one promise: successes alternately of the wrong shape and cut short, so that failure
    messages are about secrets (for the redaction proof)."""

    count = 0

    def change(self, response: RegenerateOIDCClientSecretResponse) -> None:
        response.client_secret += "!"

    def rewrite(self, answer: Answer) -> Answer:
        self.count += 1
        changed = super().rewrite(answer)
        if self.count % 2 or changed.message is None:
            return changed
        return replace(changed, message=changed.message[:-3])


class IgnoredToken(GrpcDefect):
    """Any authorization metadata, or none, is taken as the admin's token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        super().__init__(app)
        self.authorization = f"Bearer {token}".encode()

    def metadata(self, headers: Headers) -> Headers:
        return broken._set_header(headers, b"authorization", self.authorization)


class PermissionNotChecked(IgnoredToken):
    """The token without project.app.write works like the admin's."""

    def __init__(self, app: ASGIApp, token: str, viewer_token: str) -> None:
        super().__init__(app, token)
        self.viewer = f"Bearer {viewer_token}".encode()

    def metadata(self, headers: Headers) -> Headers:
        if dict(headers).get(b"authorization") != self.viewer:
            return headers
        return super().metadata(headers)


class Spy(GrpcDefect):
    """Not a defect: remembers every client secret handed out over gRPC, to look for later."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.secrets: set[str] = set()

    def rewrite(self, answer: Answer) -> Answer:
        if answer.code == 0 and answer.message is not None:
            secret = RegenerateOIDCClientSecretResponse.FromString(answer.message).client_secret
            self.secrets.add(secret)
        return answer


def plain(defect: Callable[[ASGIApp], ASGIApp]) -> Callable[[ASGIApp, str, str], ASGIApp]:
    return lambda app, _token, _viewer: defect(app)

"""The ASGI side of gRPC and gRPC-web: frames in, frames and trailers out.

:class:`GrpcApp` answers every request whose Content-Type is ``application/grpc*`` (native gRPC,
HTTP/2 with trailers) or ``application/grpc-web*`` (binary or base64 ``-text``, any HTTP
version, trailers in a final frame). It checks what grpc-go's transport checks, in grpc-go's
order (method, HTTP version, timeout, route, encoding, framing), reads exactly one message and
hands it to :meth:`GrpcAdapter.call <mockserver.grpc_adapter.GrpcAdapter.call>`.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from typing import Final

from starlette.types import Receive, Scope, Send

from mockserver import errors
from mockserver.errors import MockError
from mockserver.grpc_adapter import GrpcAdapter, Metadata, Reply, check_method, error_reply
from zitadel_proto.wire import (
    COMPRESSED_FLAG,
    MAX_MESSAGE_BYTES,
    PREFIX_LENGTH,
    Wire,
    decode_web_text,
    encode_frame,
    encode_trailer_block,
    encode_web_text,
    frame_header,
    parse_timeout,
    wire_of,
)

ENCODINGS: Final = ("identity", "gzip")
SUCCESS_HEADERS: Final = ((b"cache-control", b"no-store"), (b"pragma", b"no-cache"))


class ClientGoneError(Exception):
    """The client went away before its request was complete; nobody is left to answer."""


class GrpcApp:
    def __init__(self, adapter: GrpcAdapter) -> None:
        self.adapter = adapter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        metadata = metadata_of(headers)
        wire = wire_of(metadata.get("content-type")) or Wire.GRPC
        try:
            reply = await self.handle(scope, receive, wire, metadata)
        except ClientGoneError:
            return
        await respond(send, wire, metadata.get("content-type", wire.value), reply)

    async def handle(self, scope: Scope, receive: Receive, wire: Wire, metadata: Metadata) -> Reply:
        try:
            if scope["method"] != "POST":
                raise MockError(errors.GRPC_NEEDS_POST, method=scope["method"])
            if wire is Wire.GRPC and not speaks_trailers(scope):
                raise MockError(errors.GRPC_NEEDS_HTTP2)
            timeout = None
            if "grpc-timeout" in metadata:
                try:
                    timeout = parse_timeout(metadata["grpc-timeout"])
                except ValueError:
                    raise MockError(
                        errors.GRPC_BAD_TIMEOUT, value=metadata["grpc-timeout"]
                    ) from None
            check_method(scope["path"])
            encoding = metadata.get("grpc-encoding", "identity")
            if encoding not in ENCODINGS:
                raise MockError(errors.GRPC_UNKNOWN_ENCODING, encoding=f'"{encoding}"')
            async with asyncio.timeout(timeout):
                request = await read_message(receive, wire, encoding)
                return await self.adapter.call(scope["path"], metadata, request)
        except MockError as error:
            return error_reply(error)
        except TimeoutError:
            return error_reply(MockError(errors.DEADLINE_EXCEEDED))


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


async def body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def read_message(receive: Receive, wire: Wire, encoding: str) -> bytes:
    """Exactly one length-prefixed message, checked as grpc-go checks it, decompressed."""
    data = bytearray()
    text = bytearray()  # gRPC-web text: base64 not yet decoded (an incomplete quantum)
    async for chunk in body_chunks(receive):
        if wire is Wire.GRPC_WEB_TEXT:
            text += chunk
            whole = len(text) - len(text) % 4
            try:
                data += decode_web_text(bytes(text[:whole]))
            except ValueError as exc:
                raise MockError(errors.GRPC_BAD_WEB_TEXT, reason=str(exc)) from None
            del text[:whole]
        else:
            data += chunk
        header = frame_header(data)
        if header is not None:
            check_prefix(*header)
            if len(data) > PREFIX_LENGTH + header[1]:
                raise MockError(errors.GRPC_SEVERAL_MESSAGES)
    if text.strip():
        raise MockError(errors.GRPC_BAD_WEB_TEXT, reason="the body ends inside a base64 quantum")
    header = frame_header(data)
    if not data:
        raise MockError(errors.GRPC_NO_MESSAGE)
    if header is None or len(data) < PREFIX_LENGTH + header[1]:
        announced = f"{header[1]} bytes announced" if header else "a 5-byte prefix expected"
        got = max(len(data) - PREFIX_LENGTH, 0) if header else len(data)
        raise MockError(errors.GRPC_TRUNCATED, reason=f"{announced}, {got} received")
    payload = bytes(data[PREFIX_LENGTH:])
    if header[0] & COMPRESSED_FLAG:
        if encoding == "identity":
            raise MockError(errors.GRPC_COMPRESSED_IDENTITY)
        payload = gunzip(payload)
    return payload


def check_prefix(flags: int, length: int) -> None:
    if flags not in (0, COMPRESSED_FLAG):
        raise MockError(errors.GRPC_PAYLOAD_FORMAT, flags=str(flags))
    if length > MAX_MESSAGE_BYTES:
        raise MockError(
            errors.GRPC_TOO_LARGE, after="", size=str(length), limit=str(MAX_MESSAGE_BYTES)
        )


def gunzip(payload: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(payload, MAX_MESSAGE_BYTES + 1)
    except zlib.error as exc:
        raise MockError(errors.GRPC_BAD_COMPRESSION, reason=str(exc)) from None
    if len(out) > MAX_MESSAGE_BYTES:
        raise MockError(
            errors.GRPC_TOO_LARGE,
            after=" after decompression",
            size=f"more than {MAX_MESSAGE_BYTES}",
            limit=str(MAX_MESSAGE_BYTES),
        )
    if not inflater.eof:
        raise MockError(errors.GRPC_BAD_COMPRESSION, reason="the gzip stream is incomplete")
    return out


async def respond(send: Send, wire: Wire, content_type: str, reply: Reply) -> None:
    headers = [(b"content-type", content_type.encode("latin-1"))]
    trailers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in reply.trailers()]
    if reply.payload is not None:
        headers += SUCCESS_HEADERS
    if reply.http_status != 200 or (wire is Wire.GRPC and reply.payload is None):
        # Trailers-only: the status travels in the one header block, nothing follows.
        await send(
            {
                "type": "http.response.start",
                "status": reply.http_status,
                "headers": [*headers, *trailers],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return
    body = encode_frame(reply.payload) if reply.payload is not None else b""
    if wire is Wire.GRPC:
        await send(
            {"type": "http.response.start", "status": 200, "headers": headers, "trailers": True}
        )
        await send({"type": "http.response.body", "body": body})
        await send({"type": "http.response.trailers", "headers": trailers})
        return
    body += encode_trailer_block(reply.trailers())
    if wire is Wire.GRPC_WEB_TEXT:
        body = encode_web_text(body)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})

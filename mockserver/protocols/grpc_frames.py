"""Reading one gRPC request message: length-prefixed frames, checked as grpc-go checks them."""

from __future__ import annotations

import zlib

from starlette.types import Receive

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.protocols.body import ClientGoneError, next_chunk
from zitadel_proto.wire import (
    COMPRESSED_FLAG,
    MAX_MESSAGE_BYTES,
    PREFIX_LENGTH,
    Wire,
    decode_web_text,
    frame_header,
)

__all__ = ["ClientGoneError", "check_prefix", "gunzip", "read_message"]


async def read_message(receive: Receive, wire: Wire, encoding: str) -> bytes:
    """Exactly one length-prefixed message, checked as grpc-go checks it, decompressed."""
    chunk, more = await next_chunk(receive)
    data: bytes | bytearray
    if more or wire is Wire.GRPC_WEB_TEXT:
        data = await _read_chunks(receive, wire, chunk, more)
    else:  # the usual case: the whole body in one chunk
        data = chunk
        _check_so_far(data)
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


async def _read_chunks(receive: Receive, wire: Wire, chunk: bytes, more: bool) -> bytearray:
    """The body from its first ``chunk`` on, chunk by chunk, checked as the chunks come."""
    data = bytearray()
    text = bytearray()  # gRPC-web text: base64 not yet decoded (an incomplete quantum)
    while True:  # no async generator: cheaper
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
        _check_so_far(data)
        if not more:
            break
        chunk, more = await next_chunk(receive)
    if text.strip():
        raise MockError(errors.GRPC_BAD_WEB_TEXT, reason="the body ends inside a base64 quantum")
    return data


def _check_so_far(data: bytes | bytearray) -> None:
    """grpc-go's checks of the body read so far: the prefix, and no second message."""
    header = frame_header(data)
    if header is not None:
        check_prefix(*header)
        if len(data) > PREFIX_LENGTH + header[1]:
            raise MockError(errors.GRPC_SEVERAL_MESSAGES)


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
